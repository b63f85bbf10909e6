// A Stryker ignorer (stryker.config.mjs `ignorers`): what only words an
// error (its message, its diagnostic details, the argument name a check
// quotes in its message) is not mutated. Error CODES, the merkle proof
// `reason` and every other expression are, since tests assert on codes and
// callers branch on them; the wording only explains, and mutating it makes
// hundreds of mutants that say nothing about the trust core.
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';

/** callee name -> indexes of its arguments that only word an error (message, details, the name a message quotes) */
const MESSAGE_ARGS = new Map([
  ['SwarmError', [1, 2]], // new SwarmError(code, message, details)
  ['raise', [1, 2]], // work-unit.ts raise(code, message, details)
  ['fail', [1, 2]], // fail(code, message, details); validate.ts this.fail(path, message)
  ['badArgument', [0, 1]], // signing.ts badArgument(message, details)
  ['badHeader', [1]], // signing.ts badHeader(name, why)
  ['badKey', [0, 1]], // keys.ts badKey(message, details, cause)
  ['badProof', [1, 2]], // merkle.ts badProof(reason, message, details): the reason code is kept
  // argument checks whose `what`/`name` argument only appears in the message
  ['checkTime', [1]], // work-unit.ts, credit.ts
  ['checkName', [1]], // work-unit.ts
  ['checkAmount', [1]], // credit.ts
  ['int', [2]], // work-unit.ts checkParams
  ['checkSize', [1]], // merkle.ts
  ['checkProofSize', [1]], // merkle.ts
  ['checkHash', [1]], // merkle.ts
  ['checkFinite', [1]], // diloco/outer.ts, used by aggregate.ts
]);

/** `f(...)`, or a method of the same class, `this.f(...)` (validate.ts's `this.fail(path, message)`) */
const calleeName = (node) => {
  if (node?.type === 'Identifier') return node.name;
  if (node?.type === 'MemberExpression' && node.object.type === 'ThisExpression' && !node.computed && node.property.type === 'Identifier') return node.property.name;
  return undefined;
};

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'error-messages', {
    shouldIgnore(path) {
      if (path.listKey !== 'arguments') return undefined;
      const call = path.parent;
      if (call?.type !== 'CallExpression' && call?.type !== 'NewExpression') return undefined;
      const name = calleeName(call.callee);
      if (name !== undefined && MESSAGE_ARGS.get(name)?.includes(path.key) === true) return `the wording of an error (${name}) is not behaviour`;
      return undefined;
    },
  }),
];
