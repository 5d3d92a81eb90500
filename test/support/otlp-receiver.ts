// An OTLP trace receiver for tests, on 127.0.0.1: OTLP/HTTP with JSON (what bouncer's
// exporter sends) and OTLP/gRPC (what the kube-apiserver sends: HTTP/2 without TLS, a
// length-prefixed protobuf ExportTraceServiceRequest). Both are flattened to one span shape.
// The protobuf decoder reads only the fields the tests look at
// (opentelemetry/proto/trace/v1/trace.proto, common/v1/common.proto).
import { createServer, type Server } from 'node:http';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly startNs: bigint;
  readonly endNs: bigint;
}

export interface OtlpReceiver {
  /** OTLP/HTTP traces URL (POST JSON). */
  readonly httpUrl: string;
  /** host:port of the OTLP/gRPC listener (plaintext HTTP/2). */
  readonly grpcEndpoint: string;
  readonly spans: ReceivedSpan[];
  /** The raw request bodies received over HTTP, to check what was (not) sent. */
  readonly rawBodies: string[];
  /** Resolves once `predicate` holds for the spans received, or rejects after `timeoutMs`. */
  waitFor(predicate: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

type JsonValue = { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: JsonValue[] } };
type JsonAttribute = { key: string; value: JsonValue };

function jsonValue(v: JsonValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}

const attributesOf = (list: readonly JsonAttribute[] | undefined): Record<string, unknown> => Object.fromEntries((list ?? []).map((a) => [a.key, jsonValue(a.value)]));

function fromJson(body: string): ReceivedSpan[] {
  const request = JSON.parse(body) as {
    resourceSpans?: { resource?: { attributes?: JsonAttribute[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  return (request.resourceSpans ?? []).flatMap((rs) => {
    const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        service,
        traceId: String(s.traceId),
        spanId: String(s.spanId),
        parentSpanId: String(s.parentSpanId ?? ''),
        name: String(s.name),
        kind: Number(s.kind),
        attributes: attributesOf(s.attributes as JsonAttribute[]),
        startNs: BigInt(String(s.startTimeUnixNano)),
        endNs: BigInt(String(s.endTimeUnixNano)),
      })),
    );
  });
}

// --- protobuf wire format: just enough to read ExportTraceServiceRequest ---

type Field = { readonly no: number; readonly wire: number; readonly bytes?: Uint8Array; readonly int?: bigint };

function varint(buf: Uint8Array, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    const b = buf[at++];
    if (b === undefined) throw new Error('truncated varint');
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, at];
    shift += 7n;
  }
  throw new Error('varint too long');
}

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, next] = varint(buf, at);
    at = next;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, after] = varint(buf, at);
      out.push({ no, wire, int: v });
      at = after;
    } else if (wire === 1) {
      out.push({ no, wire, int: Buffer.from(buf.subarray(at, at + 8)).readBigUInt64LE() });
      at += 8;
    } else if (wire === 2) {
      const [len, after] = varint(buf, at);
      out.push({ no, wire, bytes: buf.subarray(after, after + Number(len)) });
      at = after + Number(len);
    } else if (wire === 5) {
      at += 4;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('utf8') : '');
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : '');

function anyValue(buf: Uint8Array): unknown {
  for (const f of fields(buf)) {
    if (f.no === 1) return text(f.bytes);
    if (f.no === 2) return f.int !== 0n;
    if (f.no === 3) return Number(BigInt.asIntN(64, f.int ?? 0n));
    if (f.no === 4) return Buffer.from(new BigUint64Array([f.int ?? 0n]).buffer).readDoubleLE();
    if (f.no === 5) return fields(f.bytes ?? new Uint8Array()).filter((x) => x.no === 1).map((x) => anyValue(x.bytes ?? new Uint8Array()));
  }
  return undefined;
}

function keyValues(list: readonly Field[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of list) {
    const kv = fields(f.bytes ?? new Uint8Array());
    const key = text(kv.find((x) => x.no === 1)?.bytes);
    const value = kv.find((x) => x.no === 2)?.bytes;
    out[key] = value ? anyValue(value) : undefined;
  }
  return out;
}

/** Spans of a protobuf ExportTraceServiceRequest. */
export function decodeTraceRequest(buf: Uint8Array): ReceivedSpan[] {
  return fields(buf)
    .filter((f) => f.no === 1)
    .flatMap((rsField) => {
      const rs = fields(rsField.bytes ?? new Uint8Array());
      const resource = rs.find((f) => f.no === 1);
      const service = String(keyValues(fields(resource?.bytes ?? new Uint8Array()).filter((f) => f.no === 1))['service.name'] ?? '');
      return rs
        .filter((f) => f.no === 2)
        .flatMap((ss) =>
          fields(ss.bytes ?? new Uint8Array())
            .filter((f) => f.no === 2)
            .map((spanField) => {
              const s = fields(spanField.bytes ?? new Uint8Array());
              const one = (no: number) => s.find((f) => f.no === no);
              return {
                service,
                traceId: hex(one(1)?.bytes),
                spanId: hex(one(2)?.bytes),
                parentSpanId: hex(one(4)?.bytes),
                name: text(one(5)?.bytes),
                kind: Number(one(6)?.int ?? 0n),
                attributes: keyValues(s.filter((f) => f.no === 9)),
                startNs: one(7)?.int ?? 0n,
                endNs: one(8)?.int ?? 0n,
              };
            }),
        );
    });
}

/** gRPC messages of a request body: each a 1-byte compressed flag and a 4-byte length, then the message. */
function grpcMessages(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 5 <= body.length) {
    if (body[at] !== 0) throw new Error('compressed gRPC messages are not supported by this receiver');
    const len = body.readUInt32BE(at + 1);
    out.push(body.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  return out;
}

const listen = (server: Server | Http2Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const rawBodies: string[] = [];
  const waiters = new Set<() => void>();
  const received = (more: ReceivedSpan[]) => {
    spans.push(...more);
    for (const w of [...waiters]) w();
  };
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      rawBodies.push(body);
      received(fromJson(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const grpc = createH2Server();
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  grpc.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  grpc.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      let status = 0;
      let message = '';
      try {
        if (headers[':path'] !== '/opentelemetry.proto.collector.trace.v1.TraceService/Export') throw new Error(`unknown method ${String(headers[':path'])}`);
        for (const m of grpcMessages(Buffer.concat(chunks))) received(decodeTraceRequest(m));
      } catch (err) {
        status = 13;
        message = (err as Error).message;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(status), ...(message ? { 'grpc-message': encodeURIComponent(message) } : {}) }));
      // An empty ExportTraceServiceResponse.
      stream.end(status === 0 ? Buffer.from([0, 0, 0, 0, 0]) : undefined);
    });
  });
  const [httpPort, grpcPort] = await Promise.all([listen(http), listen(grpc)]);
  return {
    httpUrl: `http://127.0.0.1:${httpPort}/v1/traces`,
    grpcEndpoint: `127.0.0.1:${grpcPort}`,
    spans,
    rawBodies,
    waitFor(predicate, timeoutMs = 10_000) {
      if (predicate(spans)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(spans)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the spans expected did not arrive within ${timeoutMs} ms; received: ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    async close() {
      http.closeAllConnections();
      for (const session of sessions) session.destroy();
      await Promise.all([new Promise((r) => http.close(r)), new Promise((r) => grpc.close(r))]);
    },
  };
}
