/**
 * `swarm chat --url URL`: a terminal chat with any OpenAI-compatible server
 * (ours or another), streaming the reply as it is generated. It speaks plain
 * HTTP + SSE with fetch, so it needs no SDK at run time.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { SwarmError } from '../core/errors.ts';
import { parsePositiveInt } from './flags.ts';

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequestOptions {
  url: string;
  model: string;
  messages: readonly ChatTurn[];
  maxTokens?: number;
  temperature?: number;
  seed?: number;
  signal?: AbortSignal;
}

/** The API root: accepts "http://host:port" or "http://host:port/v1". */
export function apiBase(url: string): string {
  const u = url.replace(/\/+$/, '');
  return u.endsWith('/v1') ? u : `${u}/v1`;
}

async function failure(r: Response): Promise<SwarmError> {
  let message = `HTTP ${r.status}`;
  try {
    const j = (await r.json()) as { error?: { message?: string; code?: string } };
    if (j.error?.message) message = `${message}: ${j.error.message}`;
  } catch {
    // not JSON: the status says enough
  }
  return new SwarmError('CHAT_HTTP', message, { status: r.status });
}

/** The first model the server lists (used when --model is not given). */
export async function firstModel(url: string): Promise<string> {
  const r = await fetch(`${apiBase(url)}/models`);
  if (!r.ok) throw await failure(r);
  const j = (await r.json()) as { data?: Array<{ id?: unknown }> };
  const id = j.data?.[0]?.id;
  if (typeof id !== 'string') throw new SwarmError('CHAT_NO_MODEL', `${url} serves no models`);
  return id;
}

/**
 * Streams one reply: POST /v1/chat/completions with stream: true, parse the
 * server-sent events (WHATWG HTML §9.2: events end with a blank line, data
 * lines start with "data:"), call onText with each delta, stop at [DONE].
 * Returns the whole reply.
 */
export async function streamChat(o: ChatRequestOptions, onText: (text: string) => void): Promise<string> {
  const r = await fetch(`${apiBase(o.url)}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({
      model: o.model,
      messages: o.messages,
      stream: true,
      ...(o.maxTokens === undefined ? {} : { max_tokens: o.maxTokens }),
      ...(o.temperature === undefined ? {} : { temperature: o.temperature }),
      ...(o.seed === undefined ? {} : { seed: o.seed }),
    }),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (!r.ok || r.body === null) throw await failure(r);
  const decoder = new TextDecoder();
  let buffer = '';
  let reply = '';
  for await (const bytes of r.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    const events = buffer.split(/\r?\n\r?\n/);
    buffer = events.pop()!;
    for (const ev of events) {
      const data = ev
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data === '') continue;
      if (data === '[DONE]') return reply;
      const chunk = JSON.parse(data) as { error?: { message?: string }; choices?: Array<{ delta?: { content?: string | null } }> };
      if (chunk.error) throw new SwarmError('CHAT_STREAM_ERROR', chunk.error.message ?? 'the server reported an error');
      for (const c of chunk.choices ?? []) {
        const t = c.delta?.content;
        if (t) {
          reply += t;
          onText(t);
        }
      }
    }
  }
  return reply;
}

interface ChatFlags {
  url: string;
  model?: string;
  system?: string;
  maxTokens?: number;
  temperature?: number;
  seed?: number;
}

async function chatAction(o: ChatFlags): Promise<void> {
  const model = o.model ?? (await firstModel(o.url));
  const history: ChatTurn[] = o.system ? [{ role: 'system', content: o.system }] : [];
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  if (process.stdin.isTTY) process.stdout.write(`chatting with ${model} at ${o.url} (Ctrl-D to quit)\n`);
  try {
    for (;;) {
      let line: string;
      try {
        line = await rl.question(process.stdin.isTTY ? '> ' : '');
      } catch {
        break; // input closed
      }
      if (line.trim() === '') continue;
      history.push({ role: 'user', content: line });
      const reply = await streamChat(
        { url: o.url, model, messages: history, ...(o.maxTokens ? { maxTokens: o.maxTokens } : {}), ...(o.temperature === undefined ? {} : { temperature: o.temperature }), ...(o.seed === undefined ? {} : { seed: o.seed }) },
        (t) => process.stdout.write(t),
      );
      process.stdout.write('\n');
      history.push({ role: 'assistant', content: reply });
    }
  } finally {
    rl.close();
  }
}

export function registerChat(program: Command): void {
  program
    .command('chat')
    .description('chat in the terminal with an OpenAI-compatible server, streaming replies')
    .option('--url <url>', 'server root URL, with or without /v1', 'http://127.0.0.1:8080')
    .option('--model <id>', 'model id (default: the first the server lists)')
    .option('--system <text>', 'system message sent at the start of the conversation (default: none)')
    .option('--max-tokens <n>', 'tokens per reply at most (default: the server\'s limit)', parsePositiveInt('--max-tokens', 1 << 20))
    .option('--temperature <x>', 'sampling temperature in [0, 2] (default: the server\'s)', (v: string) => {
      const x = Number(v);
      if (v.trim() === '' || !(x >= 0 && x <= 2)) throw new SwarmError('CLI_BAD_FLAG', `--temperature must be in [0, 2], got "${v}"`);
      return x;
    })
    .option('--seed <n>', 'sampling seed (default: the server\'s)', parsePositiveInt('--seed', 2 ** 32 - 1))
    .action(chatAction);
}
