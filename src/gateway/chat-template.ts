/**
 * Chat templates: messages → prompt text, with the Jinja dialect Hugging Face
 * stores as `chat_template` (rendered by @huggingface/jinja, the
 * implementation transformers.js uses). Templates get the variables
 * transformers passes to apply_chat_template: messages, add_generation_prompt,
 * bos_token, eos_token.
 *
 * Special tokens are never parsed out of rendered text (the tokenizer encodes
 * with allowSpecial off), so a user writing "<|end_of_text|>" cannot inject a
 * control token. The one special token a template may emit is a leading
 * bos_token, which becomes the BOS id (HF templates usually start with it).
 */
import { Template } from '@huggingface/jinja';
import { SwarmError } from '../core/errors.ts';
import type { Tokenizer } from '../model/tokenizer/index.ts';
import type { ChatMessage } from './schemas.ts';
import { contentText } from './schemas.ts';

/**
 * Default for swarm-trained base models: a plain "Role: text" transcript, the
 * form a model trained on ordinary text continues most naturally; the
 * generation prompt ends with "Assistant:" and the next "\nUser:" stops it
 * (DEFAULT_CHAT_STOP). System messages are a preamble without a label.
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{% if message.role == 'system' or message.role == 'developer' %}" +
  '{{ message.content }}\n\n' +
  "{% else %}{{ message.role | capitalize }}: {{ message.content }}\n{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}Assistant:{% endif %}";

export const DEFAULT_CHAT_STOP: readonly string[] = ['\nUser:'];

const compiled = new Map<string, Template>();

function compile(source: string): Template {
  let t = compiled.get(source);
  if (t === undefined) {
    try {
      t = new Template(source);
    } catch (e) {
      throw new SwarmError('GATEWAY_TEMPLATE', `the model's chat template does not parse: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (compiled.size > 64) compiled.clear();
    compiled.set(source, t);
  }
  return t;
}

function specialContent(tok: Tokenizer, id: number): string {
  return tok.addedTokens.find((a) => a.id === id)?.content ?? '';
}

/** Renders `messages` with `template` and encodes the result (BOS as an id, never as text). */
export function applyChatTemplate(tok: Tokenizer, messages: readonly ChatMessage[], template = DEFAULT_CHAT_TEMPLATE): Int32Array {
  const bos = specialContent(tok, tok.specialTokens.bos);
  const eos = specialContent(tok, tok.specialTokens.eos);
  let text: string;
  try {
    text = compile(template).render({
      messages: messages.map((m) => ({ role: m.role, content: contentText(m.content) })),
      add_generation_prompt: true,
      bos_token: bos,
      eos_token: eos,
    });
  } catch (e) {
    // raise_exception(...) in a template (HF's way to reject a conversation) lands here too
    throw new SwarmError('GATEWAY_TEMPLATE', `the chat template rejected the messages: ${e instanceof Error ? e.message : String(e)}`);
  }
  const withBos = bos !== '' && text.startsWith(bos);
  return tok.encode(withBos ? text.slice(bos.length) : text, { bos: withBos });
}
