/**
 * A model as the gateway serves it: already loaded and injected by whoever
 * builds the app (the CLI loads checkpoints; tests build a tiny random model).
 * The gateway never reads files itself (DESIGN.md: components injected).
 */
import { SwarmError } from '../core/errors.ts';
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
  /**
   * A version the Steering Council released (issue 20): its checkpoint, the
   * decision, and where its model card is. Shown in /v1/models as `release`
   * (a member OpenAI clients ignore).
   */
  release?: { checkpoint: string; decision: string; card: string };
  /** the run's latest checkpoint, not released by the council: /v1/models marks it `preview: true` */
  preview?: boolean;
}

/**
 * The models a gateway serves, by id. Models can be added while it serves
 * (a council release enacted after the gateway started); one id, one model.
 */
export class ServedModels {
  private readonly byId = new Map<string, ServedModel>();

  constructor(models: readonly ServedModel[] = []) {
    for (const m of models) this.add(m);
  }

  /** Adds a model; GATEWAY_DUPLICATE_MODEL if its id is served already. */
  add(m: ServedModel): void {
    if (this.byId.has(m.id)) throw new SwarmError('GATEWAY_DUPLICATE_MODEL', `a model with id '${m.id}' is served already`, { id: m.id });
    this.byId.set(m.id, m);
  }

  get(id: string): ServedModel | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** In the order they were added. */
  list(): ServedModel[] {
    return [...this.byId.values()];
  }
}
