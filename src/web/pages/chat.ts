/**
 * Chat (`/chat`): a playground against the gateway's OpenAI-compatible
 * /v1/chat/completions on this same server (`swarm up` serves the trained
 * model there), streamed token by token (Server-Sent Events, "data: {…}"
 * lines, "data: [DONE]" at the end), with temperature, seed and max tokens.
 * Shows which model answered. A tracker without a gateway says so.
 */
import { html } from 'htm/preact';
import type { VNode } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { ErrorLine, Loading } from '../components.ts';
import { useApi } from '../hooks.ts';

interface Models {
  data: Array<{ id: string }>;
}

interface Turn {
  role: 'user' | 'assistant';
  content: string;
  model?: string;
}

/** Reads an SSE stream of chat.completion.chunk objects, calling `onDelta` per content piece. */
async function readStream(res: Response, onDelta: (text: string, model: string | undefined) => void): Promise<void> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') return;
      const chunk = JSON.parse(data) as { model?: string; choices?: Array<{ delta?: { content?: string } }> };
      onDelta(chunk.choices?.[0]?.delta?.content ?? '', chunk.model);
    }
  }
}

export function ChatPage(): VNode {
  const models = useApi<Models>('/v1/models');
  const [turns, setTurns] = useState<Turn[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const stop = useRef<AbortController | null>(null);
  if (models.data === undefined) {
    if (models.error === undefined) return html`<${Loading} />`;
    if (models.error.status === 404 || models.error.status === 503) {
      return html`<h1>Chat</h1><p class="note">No model is served here yet${models.error.status === 503 ? ': the swarm is still training' : ''}. <code>npm start</code> (<code>swarm up</code>) serves the trained model at <code>/v1</code> when its run finishes; <code>swarm serve --model DIR</code> serves a checkpoint.</p>`;
    }
    return html`<h1>Chat</h1><${ErrorLine} error=${models.error} />`;
  }
  const onSubmit = (e: Event): void => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    const prompt = String(f.get('prompt') ?? '').trim();
    if (prompt === '' || busy) return;
    const history: Turn[] = [...turns, { role: 'user', content: prompt }];
    const model = String(f.get('model'));
    const body = {
      model,
      stream: true,
      messages: history.map((t) => ({ role: t.role, content: t.content })),
      temperature: Number(f.get('temperature')),
      max_tokens: Number(f.get('max_tokens')),
      ...(String(f.get('seed') ?? '') === '' ? {} : { seed: Number(f.get('seed')) }),
    };
    setTurns([...history, { role: 'assistant', content: '' }]);
    setBusy(true);
    setError(undefined);
    (form.elements.namedItem('prompt') as HTMLTextAreaElement).value = '';
    const ctl = new AbortController();
    stop.current = ctl;
    const append = (text: string, m: string | undefined): void =>
      setTurns((ts) => {
        const last = ts[ts.length - 1]!;
        return [...ts.slice(0, -1), { role: 'assistant', content: last.content + text, model: m ?? last.model ?? model }];
      });
    fetch('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctl.signal })
      .then(async (res) => {
        if (!res.ok) {
          const err = ((await res.json().catch(() => null)) as { error?: { message?: string } } | null)?.error;
          throw new ApiError(res.status, `HTTP_${res.status}`, err?.message ?? res.statusText);
        }
        await readStream(res, append);
      })
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      })
      .finally(() => setBusy(false));
  };
  return html`
    <h1>Chat</h1>
    <p class="muted">Talk to the swarm's model through the OpenAI-compatible API (<code>/v1/chat/completions</code>). With a seed, the same prompt gives the same answer, so answers can be spot-checked.</p>
    <div class="chat-log" aria-live="polite" aria-label="Conversation">
      ${turns.length === 0 ? html`<p class="muted">No messages yet.</p>` : turns.map((t) => html`<div class=${`msg msg-${t.role}`} data-role=${t.role}>
        <div class="msg-who">${t.role === 'user' ? 'You' : `Model ${t.model ?? ''}`}</div>
        <div class="msg-text">${t.content}</div>
      </div>`)}
    </div>
    ${error === undefined ? null : html`<p class="error" role="alert">${error}</p>`}
    <form class="chat-form" onSubmit=${onSubmit}>
      <label class="full">Message
        <textarea name="prompt" rows="3" required placeholder="The farmer"></textarea>
      </label>
      <label>Model
        <select name="model">${models.data.data.map((m) => html`<option value=${m.id}>${m.id}</option>`)}</select>
      </label>
      <label>Temperature <input name="temperature" type="number" min="0" max="2" step="0.1" value="0.8" /></label>
      <label>Seed <input name="seed" type="number" min="0" step="1" value="1" /></label>
      <label>Max tokens <input name="max_tokens" type="number" min="1" max="512" step="1" value="64" /></label>
      <div class="full">
        <button type="submit" disabled=${busy}>Send</button>
        ${busy ? html` <button type="button" onClick=${() => stop.current?.abort()}>Stop</button>` : null}
        ${turns.length > 0 && !busy ? html` <button type="button" onClick=${() => setTurns([])}>New conversation</button>` : null}
      </div>
    </form>`;
}
