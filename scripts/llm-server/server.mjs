// Test infrastructure, not product code.
// A small OpenAI-compatible chat server over a local GGUF model, used by the
// test suite as a real (tiny, CPU-only) language model on 127.0.0.1.
//
// Endpoints:
//   POST /v1/chat/completions  OpenAI wire format, optional `stream: true` (SSE)
//   GET  /v1/models            the one loaded model
//   GET  /health               200 once the model is loaded (the server only listens after that)
//
// Usage: node server.mjs --model PATH [--port 0] [--host 127.0.0.1] [--threads 1]
//                        [--sequences 1] [--context-size 4096] [--default-max-tokens 512]
// On ready it prints exactly one line to stdout:
//   llm-server listening on http://127.0.0.1:PORT
// Everything else goes to stderr. SIGTERM/SIGINT exit with status 0.
//
// Behaviour worth knowing in tests:
//   - Each request runs on a freshly cleared context sequence (no state shared between
//     requests); with the default single sequence, requests queue in arrival order.
//   - temperature defaults to 0 (greedy, deterministic); `seed` makes sampling repeatable.
//   - max_tokens (or max_completion_tokens) defaults to --default-max-tokens;
//     finish_reason is "length" when generation was cut by it, "stop" otherwise.
//   - response_format json_object / json_schema are enforced with a grammar (see
//     normalizeSchema for the JSON Schema subset); `stop` strings are not included in the output.
//   - Errors use the OpenAI shape {error: {message, type, param, code}}: 400 for bad
//     requests, 413 for bodies over 1 MiB, 404/405 for unknown routes/methods.

import http from "node:http";
import path from "node:path";
import fs from "node:fs";
import crypto from "node:crypto";
import { getLlama, JinjaTemplateChatWrapper, LlamaChat, LlamaLogLevel } from "node-llama-cpp";

const MAX_BODY_BYTES = 1024 * 1024;

// ---------------------------------------------------------------- options

function parseArgs(argv) {
    const opts = {
        port: Number(process.env.LLM_SERVER_PORT ?? 0),
        host: "127.0.0.1",
        model: process.env.LLM_SERVER_MODEL ?? "",
        threads: Number(process.env.LLM_SERVER_THREADS ?? 1),
        sequences: Number(process.env.LLM_SERVER_SEQUENCES ?? 1),
        contextSize: Number(process.env.LLM_SERVER_CONTEXT_SIZE ?? 4096),
        defaultMaxTokens: Number(process.env.LLM_SERVER_DEFAULT_MAX_TOKENS ?? 512),
        modelId: process.env.LLM_SERVER_MODEL_ID ?? "",
    };
    const names = {
        "--port": "port", "--host": "host", "--model": "model", "--threads": "threads",
        "--sequences": "sequences", "--context-size": "contextSize",
        "--default-max-tokens": "defaultMaxTokens", "--model-id": "modelId",
    };
    for (let i = 0; i < argv.length; i++) {
        let arg = argv[i];
        let value;
        const eq = arg.indexOf("=");
        if (eq > 0) {
            value = arg.slice(eq + 1);
            arg = arg.slice(0, eq);
        }
        const key = names[arg];
        if (key == null) fail(`unknown argument: ${arg}`);
        if (value === undefined) {
            if (i + 1 >= argv.length) fail(`missing value for ${arg}`);
            value = argv[++i];
        }
        opts[key] = ["host", "model", "modelId"].includes(key) ? value : Number(value);
    }
    if (opts.host !== "127.0.0.1") fail("only --host 127.0.0.1 is supported");
    if (!opts.model) fail("--model PATH is required");
    if (!fs.existsSync(opts.model)) fail(`model file not found: ${opts.model}`);
    for (const k of ["port", "threads", "sequences", "contextSize", "defaultMaxTokens"]) {
        if (!Number.isInteger(opts[k]) || opts[k] < 0) fail(`invalid ${k}: ${opts[k]}`);
    }
    if (opts.threads < 1 || opts.sequences < 1 || opts.contextSize < 256 || opts.defaultMaxTokens < 1) {
        fail("threads, sequences and default-max-tokens must be >= 1, context-size >= 256");
    }
    if (!opts.modelId) {
        opts.modelId = path.basename(opts.model).replace(/\.gguf$/i, "");
    }
    return opts;
}

function fail(message) {
    process.stderr.write(`llm-server: ${message}\n`);
    process.exit(2);
}

function log(message) {
    process.stderr.write(`llm-server: ${message}\n`);
}

// ---------------------------------------------------------------- errors

class ApiError extends Error {
    constructor(status, message, { type = "invalid_request_error", param = null, code = null } = {}) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }
}

function errorBody(err) {
    return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}

function sendJson(res, status, body, extraHeaders = {}) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(text),
        ...extraHeaders,
    });
    res.end(text);
}

function sendError(res, err) {
    if (!(err instanceof ApiError)) {
        log(`internal error: ${err?.stack ?? err}`);
        err = new ApiError(500, `internal error: ${err?.message ?? err}`, { type: "server_error" });
    }
    if (res.headersSent) {
        res.destroy();
        return;
    }
    sendJson(res, err.status, errorBody(err), err.status === 413 ? { Connection: "close" } : {});
}

// ---------------------------------------------------------------- model

const opts = parseArgs(process.argv.slice(2));
const startedAt = Date.now();

const llama = await getLlama({
    gpu: false,
    build: "never",
    usePrebuiltBinaries: true,
    skipDownload: true,
    progressLogs: false,
    maxThreads: opts.threads,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => process.stderr.write(`llama[${level}]: ${message}\n`),
});
const model = await llama.loadModel({ modelPath: opts.model, gpuLayers: 0 });
const context = await model.createContext({
    contextSize: opts.contextSize,
    sequences: opts.sequences,
    threads: opts.threads,
    flashAttention: false,
});
const contextSize = context.contextSize;

// Render prompts with the model's own chat template (as stored in the GGUF), so the
// prompt is exactly what the model was trained on (including its default system prompt).
const chatTemplate = model.fileInfo.metadata?.tokenizer?.chat_template;
const chatWrapper = typeof chatTemplate === "string" && chatTemplate.length > 0
    ? new JinjaTemplateChatWrapper({ template: chatTemplate })
    : "auto";

// A pool of context sequences: each request takes one, clears it, and returns it,
// so no state leaks between requests. Waiters are served in arrival order.
const freeSequences = [];
for (let i = 0; i < opts.sequences; i++) freeSequences.push(context.getSequence());
const waiters = [];

async function acquireSequence(signal) {
    if (freeSequences.length > 0 && waiters.length === 0) return freeSequences.pop();
    return await new Promise((resolve, reject) => {
        const waiter = { resolve, reject };
        waiters.push(waiter);
        signal.addEventListener("abort", () => {
            const i = waiters.indexOf(waiter);
            if (i >= 0) {
                waiters.splice(i, 1);
                reject(new ApiError(499, "client closed request"));
            }
        }, { once: true });
    });
}

function releaseSequence(seq) {
    const next = waiters.shift();
    if (next) next.resolve(seq);
    else freeSequences.push(seq);
}

// JSON Schema → grammar. The grammar generator understands: type (one or a list), const,
// enum, oneOf, string minLength/maxLength/format (date, time, date-time), object
// properties/required/additionalProperties/minProperties/maxProperties, array
// items/prefixItems/minItems/maxItems, and $ref to #/$defs. Every listed property is
// always generated, required or not. Before compiling, a schema is normalised:
//   - anyOf becomes oneOf (a grammar only ever produces one branch);
//   - {"type": [A, B], ...constraints} becomes oneOf [{type: A, ...}, {type: B, ...}];
//   - #/definitions/X references become #/$defs/X.
// Keywords that only narrow values (pattern, minimum, ...) are not enforced; they are
// reported in the x-llm-server-ignored-schema-keywords response header. Keywords that
// change the shape of the output and cannot be enforced are refused with a 400.
const ANNOTATION_KEYWORDS = new Set([
    "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated",
    "readOnly", "writeOnly", "nullable", "strict", "name", "$defs", "definitions",
]);
const SUPPORTED_KEYWORDS = new Set([
    "type", "const", "enum", "oneOf", "anyOf", "minLength", "maxLength", "format", "properties", "required",
    "additionalProperties", "minProperties", "maxProperties", "items", "prefixItems", "minItems",
    "maxItems", "$ref",
]);
const IGNORED_KEYWORDS = new Set([
    "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "uniqueItems", "contentEncoding", "contentMediaType",
]);
const SUPPORTED_FORMATS = new Set(["date", "time", "date-time"]);

function normalizeSchema(schema, where, ignored) {
    if (schema === true || schema === false) {
        throw new ApiError(400, `${where}: boolean schemas are not supported`, { param: "response_format" });
    }
    if (schema == null || typeof schema !== "object" || Array.isArray(schema)) {
        throw new ApiError(400, `${where}: a schema must be an object`, { param: "response_format" });
    }
    const out = {};
    for (const [key, value] of Object.entries(schema)) {
        if (ANNOTATION_KEYWORDS.has(key)) continue;
        if (IGNORED_KEYWORDS.has(key)) {
            ignored.add(key);
            continue;
        }
        if (key === "format" && !SUPPORTED_FORMATS.has(value)) {
            ignored.add(`format:${value}`);
            continue;
        }
        if (!SUPPORTED_KEYWORDS.has(key)) {
            throw new ApiError(400, `${where}: JSON Schema keyword "${key}" is not supported by this server`,
                { param: "response_format", code: "unsupported_schema" });
        }
        out[key] = value;
    }
    const sub = (s, w) => normalizeSchema(s, w, ignored);
    if (out.anyOf != null) {
        if (out.oneOf != null) {
            throw new ApiError(400, `${where}: anyOf together with oneOf is not supported`, { param: "response_format" });
        }
        out.oneOf = out.anyOf;
        delete out.anyOf;
    }
    if (out.oneOf != null) {
        if (!Array.isArray(out.oneOf) || out.oneOf.length === 0) {
            throw new ApiError(400, `${where}: oneOf/anyOf must be a non-empty array`, { param: "response_format" });
        }
        out.oneOf = out.oneOf.map((s, i) => sub(s, `${where}.oneOf[${i}]`));
    }
    if (out.properties != null) {
        if (typeof out.properties !== "object" || Array.isArray(out.properties)) {
            throw new ApiError(400, `${where}.properties must be an object`, { param: "response_format" });
        }
        out.properties = Object.fromEntries(Object.entries(out.properties)
            .map(([k, s]) => [k, sub(s, `${where}.properties.${k}`)]));
    }
    if (out.additionalProperties != null && typeof out.additionalProperties === "object") {
        out.additionalProperties = sub(out.additionalProperties, `${where}.additionalProperties`);
    }
    if (out.items != null) {
        if (Array.isArray(out.items)) {
            out.prefixItems = out.items.map((s, i) => sub(s, `${where}.items[${i}]`));
            delete out.items;
        } else if (out.items === false) {
            delete out.items;
            out.maxItems = Math.min(out.maxItems ?? Infinity, out.prefixItems?.length ?? 0);
        } else {
            out.items = sub(out.items, `${where}.items`);
        }
    }
    if (Array.isArray(out.prefixItems)) {
        out.prefixItems = out.prefixItems.map((s, i) => sub(s, `${where}.prefixItems[${i}]`));
    }
    if (typeof out.$ref === "string") {
        const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(out.$ref);
        if (!m) {
            throw new ApiError(400, `${where}: only #/$defs/... references are supported`, { param: "response_format" });
        }
        out.$ref = `#/$defs/${m[1]}`;
    }
    for (const defsKey of ["$defs", "definitions"]) {
        if (schema[defsKey] != null && typeof schema[defsKey] === "object") {
            out.$defs ??= {};
            for (const [k, s] of Object.entries(schema[defsKey])) out.$defs[k] = sub(s, `${where}.${defsKey}.${k}`);
        }
    }
    if (Array.isArray(out.type)) {
        const rest = { ...out };
        delete rest.type;
        delete rest.$defs;
        if (out.type.length === 0) {
            throw new ApiError(400, `${where}: type must not be an empty array`, { param: "response_format" });
        }
        if (out.type.length === 1) return { ...out, type: out.type[0] };
        const split = { oneOf: out.type.map((t) => ({ ...rest, type: t })) };
        if (out.$defs) split.$defs = out.$defs;
        return split;
    }
    return out;
}

// Compiled grammars, keyed by their schema text.
const grammarCache = new Map();

async function grammarFor(responseFormat, ignored) {
    if (responseFormat == null) return null;
    if (typeof responseFormat !== "object" || Array.isArray(responseFormat)) {
        throw new ApiError(400, "response_format must be an object", { param: "response_format" });
    }
    let key;
    let make;
    switch (responseFormat.type) {
        case "text":
            return null;
        case "json_object":
            key = "json_object";
            make = () => llama.getGrammarFor("json");
            break;
        case "json_schema": {
            const js = responseFormat.json_schema;
            if (js == null || typeof js !== "object" || js.schema == null || typeof js.schema !== "object") {
                throw new ApiError(400, "response_format.json_schema.schema must be an object",
                    { param: "response_format" });
            }
            const schema = normalizeSchema(js.schema, "response_format.json_schema.schema", ignored);
            key = "schema:" + JSON.stringify(schema);
            make = () => llama.createGrammarForJsonSchema(schema);
            break;
        }
        default:
            throw new ApiError(400, `unsupported response_format.type: ${JSON.stringify(responseFormat.type)}`,
                { param: "response_format" });
    }
    if (grammarCache.has(key)) return grammarCache.get(key);
    let grammar;
    try {
        grammar = await make();
    } catch (e) {
        throw new ApiError(400, `response_format could not be compiled to a grammar: ${e?.message ?? e}`,
            { param: "response_format", code: "invalid_schema" });
    }
    if (grammarCache.size >= 64) grammarCache.delete(grammarCache.keys().next().value);
    grammarCache.set(key, grammar);
    return grammar;
}

// ---------------------------------------------------------------- requests

function messageText(content, index) {
    if (content == null) return "";
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
        return content.map((part) => {
            if (part && typeof part === "object" && part.type === "text" && typeof part.text === "string") {
                return part.text;
            }
            throw new ApiError(400, `messages[${index}].content: only text parts are supported`,
                { param: `messages[${index}].content` });
        }).join("");
    }
    throw new ApiError(400, `messages[${index}].content must be a string or an array of text parts`,
        { param: `messages[${index}].content` });
}

function toChatHistory(messages) {
    if (!Array.isArray(messages) || messages.length === 0) {
        throw new ApiError(400, "messages must be a non-empty array", { param: "messages" });
    }
    const history = [];
    messages.forEach((m, i) => {
        if (m == null || typeof m !== "object") {
            throw new ApiError(400, `messages[${i}] must be an object`, { param: `messages[${i}]` });
        }
        const text = messageText(m.content, i);
        switch (m.role) {
            case "system":
            case "developer":
                history.push({ type: "system", text });
                break;
            case "user":
                history.push({ type: "user", text });
                break;
            case "assistant":
                history.push({ type: "model", response: [text] });
                break;
            default:
                throw new ApiError(400, `messages[${i}].role ${JSON.stringify(m.role)} is not supported` +
                    " (use system, developer, user or assistant)", { param: `messages[${i}].role` });
        }
    });
    // The model answers into a trailing model item; an assistant message last is continued.
    if (history[history.length - 1].type !== "model") history.push({ type: "model", response: [] });
    return history;
}

function optionalNumber(body, name, { min = -Infinity, max = Infinity, integer = false } = {}) {
    const v = body[name];
    if (v == null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
        throw new ApiError(400, `${name} must be ${integer ? "an integer" : "a number"} in [${min}, ${max}]`,
            { param: name });
    }
    return v;
}

function parseRequest(body) {
    if (body == null || typeof body !== "object" || Array.isArray(body)) {
        throw new ApiError(400, "request body must be a JSON object");
    }
    if (body.model != null && typeof body.model !== "string") {
        throw new ApiError(400, "model must be a string", { param: "model" });
    }
    const history = toChatHistory(body.messages);
    const n = optionalNumber(body, "n", { min: 1, max: 1, integer: true });
    void n;
    if (Array.isArray(body.tools) && body.tools.length > 0) {
        throw new ApiError(400, "tools are not supported by this server", { param: "tools" });
    }
    const maxTokens = optionalNumber(body, "max_completion_tokens", { min: 1, integer: true })
        ?? optionalNumber(body, "max_tokens", { min: 1, integer: true });
    const temperature = optionalNumber(body, "temperature", { min: 0, max: 2 }) ?? 0;
    const topP = optionalNumber(body, "top_p", { min: 0, max: 1 });
    const seed = optionalNumber(body, "seed", { integer: true });
    const frequencyPenalty = optionalNumber(body, "frequency_penalty", { min: -2, max: 2 });
    const presencePenalty = optionalNumber(body, "presence_penalty", { min: -2, max: 2 });
    let stop = body.stop ?? [];
    if (typeof stop === "string") stop = [stop];
    if (!Array.isArray(stop) || stop.length > 16 || stop.some((s) => typeof s !== "string" || s.length === 0)) {
        throw new ApiError(400, "stop must be a non-empty string or an array of up to 16 non-empty strings",
            { param: "stop" });
    }
    if (body.stream != null && typeof body.stream !== "boolean") {
        throw new ApiError(400, "stream must be a boolean", { param: "stream" });
    }
    return {
        model: body.model || opts.modelId,
        history,
        maxTokens,
        temperature,
        topP,
        seed,
        repeatPenalty: frequencyPenalty || presencePenalty
            ? { penalty: 1, frequencyPenalty: frequencyPenalty ?? 0, presencePenalty: presencePenalty ?? 0 }
            : false,
        stop,
        stream: body.stream === true,
        includeUsage: body.stream_options?.include_usage === true,
        responseFormat: body.response_format,
    };
}

function finishReason(stopReason) {
    return stopReason === "maxTokens" ? "length" : "stop";
}

async function chatCompletion(req, res, body) {
    const r = parseRequest(body);
    const ignoredKeywords = new Set();
    const grammar = await grammarFor(r.responseFormat, ignoredKeywords);
    if (ignoredKeywords.size > 0) {
        res.setHeader("x-llm-server-ignored-schema-keywords", [...ignoredKeywords].join(","));
    }

    const abort = new AbortController();
    res.on("close", () => {
        if (!res.writableFinished) abort.abort();
    });

    const id = "chatcmpl-" + crypto.randomBytes(12).toString("hex");
    const created = Math.floor(Date.now() / 1000);

    const seq = await acquireSequence(abort.signal);
    let chat;
    try {
        await seq.clearHistory();
        chat = new LlamaChat({ contextSequence: seq, chatWrapper, autoDisposeSequence: false });
        const promptTokens = chat.chatWrapper.generateContextState({ chatHistory: r.history })
            .contextText.tokenize(model.tokenizer).length;
        const room = contextSize - promptTokens - 1;
        if (room < 1) {
            throw new ApiError(400, `the prompt is ${promptTokens} tokens; the context holds ${contextSize}`,
                { param: "messages", code: "context_length_exceeded" });
        }
        const maxTokens = Math.min(r.maxTokens ?? opts.defaultMaxTokens, room);

        let completionTokens = 0;
        let streamed = false;
        const writeChunk = (delta, finish = null) => {
            res.write("data: " + JSON.stringify({
                id, object: "chat.completion.chunk", created, model: r.model,
                choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
            }) + "\n\n");
        };
        if (r.stream) {
            res.writeHead(200, {
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                Connection: "keep-alive",
            });
            streamed = true;
            writeChunk({ role: "assistant", content: "" });
        }

        const result = await chat.generateResponse(r.history, {
            maxTokens,
            temperature: r.temperature,
            topP: r.topP,
            seed: r.seed,
            repeatPenalty: r.repeatPenalty,
            grammar: grammar ?? undefined,
            customStopTriggers: r.stop.length > 0 ? r.stop : undefined,
            signal: abort.signal,
            stopOnAbortSignal: true,
            onToken: (tokens) => { completionTokens += tokens.length; },
            onTextChunk: streamed ? (text) => { if (text) writeChunk({ content: text }); } : undefined,
        });
        if (abort.signal.aborted) return;

        const finish = finishReason(result.metadata.stopReason);
        const usage = {
            prompt_tokens: promptTokens,
            completion_tokens: completionTokens,
            total_tokens: promptTokens + completionTokens,
        };
        if (streamed) {
            writeChunk({}, finish);
            if (r.includeUsage) {
                res.write("data: " + JSON.stringify({
                    id, object: "chat.completion.chunk", created, model: r.model, choices: [], usage,
                }) + "\n\n");
            }
            res.end("data: [DONE]\n\n");
            return;
        }
        sendJson(res, 200, {
            id,
            object: "chat.completion",
            created,
            model: r.model,
            choices: [{
                index: 0,
                message: { role: "assistant", content: result.response },
                logprobs: null,
                finish_reason: finish,
            }],
            usage,
        });
    } catch (e) {
        if (abort.signal.aborted) return;
        if (res.headersSent) {
            const err = e instanceof ApiError ? e : new ApiError(500, String(e?.message ?? e), { type: "server_error" });
            if (!(e instanceof ApiError)) log(`internal error: ${e?.stack ?? e}`);
            res.end("data: " + JSON.stringify(errorBody(err)) + "\n\ndata: [DONE]\n\n");
            return;
        }
        throw e;
    } finally {
        chat?.dispose({ disposeSequence: false });
        releaseSequence(seq);
    }
}

function readBody(req) {
    return new Promise((resolve, reject) => {
        const declared = Number(req.headers["content-length"] ?? 0);
        if (declared > MAX_BODY_BYTES) {
            reject(new ApiError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`, { code: "request_too_large" }));
            return;
        }
        const chunks = [];
        let size = 0;
        let done = false;
        req.on("data", (chunk) => {
            if (done) return;
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
                done = true;
                reject(new ApiError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`, { code: "request_too_large" }));
                return;
            }
            chunks.push(chunk);
        });
        req.on("end", () => {
            if (!done) {
                done = true;
                resolve(Buffer.concat(chunks));
            }
        });
        req.on("error", (e) => {
            if (!done) {
                done = true;
                reject(e);
            }
        });
    });
}

async function handle(req, res) {
    const url = new URL(req.url, "http://127.0.0.1");
    const route = url.pathname.replace(/\/+$/, "") || "/";
    if (route === "/health") {
        if (req.method !== "GET" && req.method !== "HEAD") throw new ApiError(405, "method not allowed");
        sendJson(res, 200, { status: "ok", model: opts.modelId });
        return;
    }
    if (route === "/v1/models") {
        if (req.method !== "GET") throw new ApiError(405, "method not allowed");
        sendJson(res, 200, {
            object: "list",
            data: [{ id: opts.modelId, object: "model", created: Math.floor(startedAt / 1000), owned_by: "local" }],
        });
        return;
    }
    if (route === "/v1/chat/completions") {
        if (req.method !== "POST") throw new ApiError(405, "method not allowed");
        const raw = await readBody(req);
        let body;
        try {
            body = JSON.parse(raw.toString("utf8"));
        } catch (e) {
            throw new ApiError(400, `request body is not valid JSON: ${e.message}`);
        }
        await chatCompletion(req, res, body);
        return;
    }
    throw new ApiError(404, `unknown endpoint: ${req.method} ${url.pathname}`);
}

const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
        if (err instanceof ApiError && err.status === 499) return;
        sendError(res, err);
        if (err instanceof ApiError && err.status === 413) {
            // Do not read the rest of an oversized body: answer, then close.
            res.on("finish", () => req.destroy());
        }
    });
});
// Refuse an oversized body before the client sends it when it asks first.
server.on("checkContinue", (req, res) => {
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
        sendError(res, new ApiError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`, { code: "request_too_large" }));
        res.on("finish", () => req.destroy());
        return;
    }
    res.writeContinue();
    server.emit("request", req, res);
});
server.keepAliveTimeout = 5000;

let shuttingDown = false;
function shutdown(signal) {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`${signal} received, shutting down`);
    // In-flight requests are cut off; the OS reclaims the model's memory.
    server.close();
    server.closeAllConnections();
    process.exit(0);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

server.listen(opts.port, opts.host, () => {
    const { port } = server.address();
    log(`model ${opts.modelId} loaded in ${Date.now() - startedAt} ms; context ${contextSize} tokens x ` +
        `${opts.sequences} sequences, ${opts.threads} thread(s)`);
    process.stdout.write(`llm-server listening on http://127.0.0.1:${port}\n`);
});
