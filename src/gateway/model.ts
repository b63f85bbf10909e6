/**
 * A model as the gateway serves it: already loaded and injected by whoever
 * builds the app (the CLI loads checkpoints; tests build a tiny random model).
 * The gateway never reads files itself (DESIGN.md: components injected).
 */
import type { ModelConfig } from '../model/config.ts';
import type { LlamaParams, ModelConstants } from '../model/llama.ts';
import type { Tokenizer } from '../model/tokenizer/index.ts';

export interface ServedModel {
  /** the id clients put in `model` */
  id: string;
  config: ModelConfig;
  params: LlamaParams;
  constants: ModelConstants;
  tokenizer: Tokenizer;
  /** Jinja chat template (Hugging Face's tokenizer_config.json `chat_template`); default: DEFAULT_CHAT_TEMPLATE */
  chatTemplate?: string;
  /**
   * Stop strings added to every chat request, for base models whose template
   * has no end-of-turn token (the default template's next "User:" turn).
   */
  chatStop?: readonly string[];
  /** `owned_by` in /v1/models */
  ownedBy?: string;
  /** unix seconds, `created` in /v1/models */
  created?: number;
}
