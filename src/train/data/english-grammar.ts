/**
 * The default synthetic corpus: a stochastic finite-state grammar of simple
 * English sentences, compiled to a UnifilarSource (source-builder.ts).
 *
 * What a model has to learn, and why a bigram model cannot:
 *  - sentence structure: determiner, up to two adjectives, noun, an optional
 *    prepositional phrase, verb (intransitive, or transitive + object noun
 *    phrase), optional adverb / prepositional phrase, coordination ("and"
 *    + a second verb phrase, or ", but" + a new clause), questions
 *    ("Does/Do ... ?" with the bare verb);
 *  - number agreement: the verb agrees with the subject's number, which may
 *    have been fixed 1–6 words earlier (a determiner such as "these", the
 *    noun after "the", or the auxiliary "does"/"do" BEFORE the noun), and a
 *    coordinated verb ("and ...") agrees with a subject several words back;
 *  - topic: four topics (farm, sea, forest, town) with their own nouns,
 *    adjectives, verbs and places. Every content word of a sentence comes from
 *    the sentence's topic; a new sentence keeps the topic with probability
 *    stay/(stay + 3·switch) (0.8 by default). Function words ("the", "in",
 *    "and", ".") carry no topic, so a bigram model must guess the topic after
 *    each of them, while any recent content word reveals it.
 * The hidden state is (grammar position, topic, subject number, object
 * number, coordination/question flags); it is identifiable from the last few
 * words, so a model with a context of a sentence or two can reach the floor.
 *
 * Measured for the defaults (tests pin the analytic numbers): floor 2.52
 * nats/word, 2.17 nats per word-or-punctuation symbol, 0.461 nats/byte. The
 * best possible bigram over symbols (unlimited data) is 0.68 nats/symbol above
 * the floor, 8 symbols of context 0.007 above (context-bound.ts). A ~1.8M-
 * parameter GPT (numpy reference outside this repository; 4 layers, width
 * 192, context 64, one token per symbol, batch 8, AdamW) came within 0.14
 * nats/token of the floor after 205k training tokens and 0.08 after 307k.
 * With byte tokens the same budget is not enough (0.69 nats/byte above after
 * 307k bytes): a tokenizer that makes most words one or two tokens is needed
 * to learn it in a few CPU-minutes.
 *
 * Every noun and adjective starts with a consonant (so "a" never needs to be
 * "an"), and every word is unique across classes and topics (the compiler
 * rejects a grammar whose texts would not determine their parse).
 */
import { SwarmError } from '../../core/errors.ts';
import { isWordSymbol } from './english-surface.ts';
import type { Choice, GrammarSpec } from './source-builder.ts';
import { buildUnifilarSource } from './source-builder.ts';
import type { UnifilarSource } from './unifilar-source.ts';

export interface WordEntry {
  word: string;
  weight: number;
}
/** A noun or a present-tense verb: `sg` is the third-person singular form, `pl` the plural (= bare) form. */
export interface InflectedEntry {
  sg: string;
  pl: string;
  weight: number;
}
export interface DeterminerEntry {
  word: string;
  number: 'sg' | 'pl' | 'any';
  weight: number;
}
export interface TopicLexicon {
  name: string;
  nouns: InflectedEntry[];
  adjectives: WordEntry[];
  intransitive: InflectedEntry[];
  transitive: InflectedEntry[];
  /** singular nouns used after prepositions ("near the barn") */
  places: WordEntry[];
}
export interface EnglishLexicon {
  topics: TopicLexicon[];
  /** determiners of subject and object noun phrases */
  determiners: DeterminerEntry[];
  /** determiners of prepositional phrases (place nouns are singular) */
  placeDeterminers: WordEntry[];
  prepositions: WordEntry[];
  /** "often", "never", ... before the verb (statements only) */
  preVerbAdverbs: WordEntry[];
  /** "quickly", ... after the verb phrase */
  postVerbAdverbs: WordEntry[];
}

/** Relative integer weights of the grammar's branches; a zero weight removes a branch. */
export interface EnglishGrammarWeights {
  statement: number;
  /** split evenly between "does" (singular) and "do" (plural) */
  question: number;
  /** [no adjective, one, two] */
  adjectives: [number, number, number];
  /** [no prepositional phrase after the subject, one] */
  subjectPP: [number, number];
  intransitive: number;
  transitive: number;
  preVerbAdverb: number;
  /** after a verb phrase: end, adverb, prepositional phrase, "and" + verb phrase, ", but" + clause */
  vpEnd: { stop: number; adverb: number; pp: number; and: number; but: number };
  /** after the adverb / prepositional phrase that closes a verb phrase */
  modifierEnd: { stop: number; and: number; but: number };
  /** number of the noun after a number-neutral determiner ("the"): [singular, plural] */
  nounNumber: [number, number];
  /** a new sentence keeps the topic with weight `topicStay`, moves to each other topic with `topicSwitch` */
  topicStay: number;
  topicSwitch: number;
  /** after a sentence: another sentence, or the end of the document */
  documentContinue: number;
  documentEnd: number;
}

export interface EnglishGrammarConfig {
  lexicon: EnglishLexicon;
  weights: EnglishGrammarWeights;
}

const n = (sg: string, pl: string, weight: number): InflectedEntry => ({ sg, pl, weight });
const w = (word: string, weight: number): WordEntry => ({ word, weight });
/** Zipf-like weights shared by every topic, so no topic is easier than another. */
const inflected = (pairs: [string, string][], weights: number[]): InflectedEntry[] => pairs.map(([sg, pl], i) => n(sg, pl, weights[i]!));
const plain = (words: string[], weights: number[]): WordEntry[] => words.map((x, i) => w(x, weights[i]!));
const NOUN_W = [6, 5, 4, 3, 3, 2, 2, 1];
const ADJ_W = [3, 2, 2, 1, 1];
const VERB_W = [3, 2, 2, 1];
const PLACE_W = [3, 2, 2, 1];

function topic(
  name: string,
  nouns: [string, string][],
  adjectives: string[],
  intransitive: [string, string][],
  transitive: [string, string][],
  places: string[],
): TopicLexicon {
  return {
    name,
    nouns: inflected(nouns, NOUN_W),
    adjectives: plain(adjectives, ADJ_W),
    intransitive: inflected(intransitive, VERB_W),
    transitive: inflected(transitive, VERB_W),
    places: plain(places, PLACE_W),
  };
}

/** Frozen all the way down: compiled sources are cached per config object, so the defaults must not change under the cache. */
function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

export const DEFAULT_LEXICON: EnglishLexicon = deepFreeze({
  topics: [
    topic(
      'farm',
      [['dog', 'dogs'], ['cat', 'cats'], ['horse', 'horses'], ['goat', 'goats'], ['farmer', 'farmers'], ['cow', 'cows'], ['hen', 'hens'], ['pig', 'pigs']],
      ['brown', 'lazy', 'muddy', 'hungry', 'noisy'],
      [['sleeps', 'sleep'], ['barks', 'bark'], ['eats', 'eat'], ['waits', 'wait']],
      [['chases', 'chase'], ['feeds', 'feed'], ['watches', 'watch'], ['follows', 'follow']],
      ['barn', 'field', 'fence', 'yard'],
    ),
    topic(
      'sea',
      [['sailor', 'sailors'], ['gull', 'gulls'], ['crab', 'crabs'], ['boat', 'boats'], ['whale', 'whales'], ['seal', 'seals'], ['captain', 'captains'], ['diver', 'divers']],
      ['wet', 'salty', 'blue', 'cold', 'brave'],
      [['swims', 'swim'], ['sails', 'sail'], ['dives', 'dive'], ['rests', 'rest']],
      [['catches', 'catch'], ['pulls', 'pull'], ['finds', 'find'], ['carries', 'carry']],
      ['harbor', 'shore', 'dock', 'beach'],
    ),
    topic(
      'forest',
      [['fox', 'foxes'], ['wolf', 'wolves'], ['bear', 'bears'], ['hawk', 'hawks'], ['rabbit', 'rabbits'], ['hunter', 'hunters'], ['squirrel', 'squirrels'], ['ranger', 'rangers']],
      ['wild', 'dark', 'quiet', 'tall', 'green'],
      [['hides', 'hide'], ['runs', 'run'], ['howls', 'howl'], ['climbs', 'climb']],
      [['hunts', 'hunt'], ['sees', 'see'], ['hears', 'hear'], ['smells', 'smell']],
      ['forest', 'river', 'hill', 'cave'],
    ),
    topic(
      'town',
      [['baker', 'bakers'], ['teacher', 'teachers'], ['child', 'children'], ['doctor', 'doctors'], ['driver', 'drivers'], ['student', 'students'], ['neighbor', 'neighbors'], ['painter', 'painters']],
      ['busy', 'young', 'kind', 'tired', 'clever'],
      [['works', 'work'], ['sings', 'sing'], ['laughs', 'laugh'], ['walks', 'walk']],
      [['visits', 'visit'], ['helps', 'help'], ['calls', 'call'], ['meets', 'meet']],
      ['market', 'school', 'bridge', 'station'],
    ),
  ],
  determiners: [
    { word: 'the', number: 'any', weight: 8 },
    { word: 'a', number: 'sg', weight: 4 },
    { word: 'this', number: 'sg', weight: 1 },
    { word: 'that', number: 'sg', weight: 1 },
    { word: 'every', number: 'sg', weight: 1 },
    { word: 'some', number: 'pl', weight: 2 },
    { word: 'these', number: 'pl', weight: 1 },
    { word: 'those', number: 'pl', weight: 1 },
    { word: 'many', number: 'pl', weight: 1 },
    { word: 'two', number: 'pl', weight: 1 },
  ],
  placeDeterminers: [w('the', 3), w('a', 1)],
  prepositions: plain(['in', 'on', 'near', 'under', 'behind', 'beside'], [3, 2, 2, 1, 1, 1]),
  preVerbAdverbs: plain(['often', 'never', 'always', 'sometimes', 'rarely'], [3, 2, 2, 1, 1]),
  postVerbAdverbs: plain(['quickly', 'slowly', 'quietly', 'again', 'today'], [3, 2, 2, 1, 1]),
});

export const DEFAULT_WEIGHTS: EnglishGrammarWeights = deepFreeze({
  statement: 7,
  question: 1,
  adjectives: [6, 3, 1],
  subjectPP: [5, 1],
  intransitive: 5,
  transitive: 6,
  preVerbAdverb: 2,
  vpEnd: { stop: 6, adverb: 2, pp: 2, and: 1, but: 1 },
  modifierEnd: { stop: 4, and: 1, but: 1 },
  nounNumber: [1, 1],
  topicStay: 12,
  topicSwitch: 1,
  documentContinue: 7,
  documentEnd: 1,
});

export const DEFAULT_ENGLISH_GRAMMAR: EnglishGrammarConfig = deepFreeze({ lexicon: DEFAULT_LEXICON, weights: DEFAULT_WEIGHTS });

// ---------------------------------------------------------------------------
// Grammar nodes. A node is a position plus the features the rest of the
// sentence depends on; the builder turns reachable nodes into states.

type Num = 'sg' | 'pl' | '?';
type Cls = 'noun' | 'adj' | 'vi' | 'vt' | 'place';
/** Which number a content word uses: the subject's, the object's, the bare verb form, or none. */
type Slot = 'subj' | 'np' | 'base' | 'none';

interface Features {
  /** topic index; -1 before the first content word of a document */
  topic: number;
  /** the topic may still change (set at each sentence start, cleared by the first content word) */
  sticky: boolean;
  subj: Num;
  np: Num;
  /** a coordination ("and", ", but") already happened in this sentence */
  coord: boolean;
  question: boolean;
}

interface Node {
  at: string;
  f: Features;
  /** for at === 'draw': the class, the number slot and the node after the word */
  cls?: Cls;
  slot?: Slot;
  then?: string;
}

const END = 'END';

function key(node: Node): string {
  const f = node.f;
  if (node.at === END) return END;
  const feats = `t${f.topic}${f.sticky ? '~' : ''} s${f.subj} n${f.np}${f.coord ? ' c' : ''}${f.question ? ' q' : ''}`;
  return node.at === 'draw' ? `draw(${node.cls},${node.slot})>${node.then} ${feats}` : `${node.at} ${feats}`;
}

function checkConfig(config: EnglishGrammarConfig): void {
  const bad = (msg: string, details?: Record<string, unknown>): never => {
    throw new SwarmError('DATA_GRAMMAR_INVALID', msg, details);
  };
  const lx = config.lexicon;
  if (lx.topics.length === 0) bad('the lexicon needs at least one topic');
  const words: string[] = [];
  const weightOk = (x: number): boolean => Number.isSafeInteger(x) && x >= 0 && x <= 1_000_000;
  const addWord = (x: string, weight: number): void => {
    if (!isWordSymbol(x)) bad('words must be lower-case ASCII letters', { word: x });
    if (!weightOk(weight)) bad('weights must be integers in [0, 1e6]', { word: x });
    words.push(x);
  };
  const positive = (xs: { weight: number }[]): boolean => xs.reduce((a, e) => a + e.weight, 0) > 0;
  for (const t of lx.topics) {
    if (![t.nouns, t.adjectives, t.intransitive, t.transitive, t.places].every(positive)) {
      bad('every word class of every topic needs a positive total weight', { topic: t.name });
    }
    for (const e of [...t.nouns, ...t.intransitive, ...t.transitive]) {
      // "sheep"/"sheep" would leave the number (and so the agreement state) ambiguous.
      addWord(e.sg, e.weight);
      addWord(e.pl, e.weight);
    }
    for (const e of [...t.adjectives, ...t.places]) addWord(e.word, e.weight);
    for (const e of [...t.nouns.map((x) => x.sg), ...t.nouns.map((x) => x.pl), ...t.adjectives.map((x) => x.word)]) {
      if (/^[aeiou]/.test(e)) bad('nouns and adjectives must start with a consonant ("a", not "an")', { word: e });
    }
  }
  // Place determiners may repeat the noun-phrase determiners ("the", "a"): no state offers both lists.
  for (const e of lx.determiners) addWord(e.word, e.weight);
  for (const e of [...lx.prepositions, ...lx.preVerbAdverbs, ...lx.postVerbAdverbs]) addWord(e.word, e.weight);
  if (![lx.determiners, lx.placeDeterminers, lx.prepositions, lx.preVerbAdverbs, lx.postVerbAdverbs].every(positive)) {
    bad('every function-word list needs a positive total weight');
  }
  for (const e of lx.placeDeterminers) if (!isWordSymbol(e.word) || !weightOk(e.weight)) bad('bad place determiner', { word: e.word });
  for (const x of ['does', 'do', 'and', 'but']) words.push(x);
  const seen = new Set<string>();
  for (const x of words) {
    if (seen.has(x)) bad('every word must be unique across classes and topics', { word: x });
    seen.add(x);
  }
  const wt = config.weights;
  const all = [
    wt.statement, wt.question, ...wt.adjectives, ...wt.subjectPP, wt.intransitive, wt.transitive, wt.preVerbAdverb,
    ...Object.values(wt.vpEnd), ...Object.values(wt.modifierEnd), ...wt.nounNumber, wt.topicStay, wt.topicSwitch,
    wt.documentContinue, wt.documentEnd,
  ];
  if (!all.every(weightOk)) bad('grammar weights must be integers in [0, 1e6]');
  if (wt.documentEnd === 0) bad('documentEnd must be positive (documents must end)');
}

/** The grammar as a GrammarSpec (for buildUnifilarSource, or for enumerating it in tests). */
export function englishGrammarSpec(config: EnglishGrammarConfig = DEFAULT_ENGLISH_GRAMMAR): GrammarSpec<Node> {
  checkConfig(config);
  const lx = config.lexicon;
  const wt = config.weights;
  const T = lx.topics.length;

  const at = (name: string, f: Features, patch: Partial<Features> = {}): Node => ({ at: name, f: { ...f, ...patch } });
  const eps = (weight: number, next: Node): Choice<Node> => ({ weight, symbol: null, next });
  const emit = (weight: number, symbol: string, next: Node): Choice<Node> => ({ weight, symbol, next });
  const draw = (f: Features, cls: Cls, slot: Slot, then: string): Node => ({ at: 'draw', f, cls, slot, then });

  /** A content word: first the topic (if open), then the number (if open), then the word. */
  function drawChoices(node: Node): Choice<Node>[] {
    const f = node.f;
    const cls = node.cls!;
    const slot = node.slot!;
    if (f.topic < 0 || f.sticky) {
      const out: Choice<Node>[] = [];
      for (let t = 0; t < T; t++) {
        const weight = f.topic < 0 ? 1 : t === f.topic ? wt.topicStay : wt.topicSwitch;
        out.push(eps(weight, { ...node, f: { ...f, topic: t, sticky: false } }));
      }
      return out;
    }
    const inflects = cls === 'noun' || cls === 'vi' || cls === 'vt';
    const slotNum: Num = slot === 'subj' ? f.subj : slot === 'np' ? f.np : slot === 'base' ? 'pl' : 'sg';
    if (inflects && slotNum === '?') {
      const field = slot === 'subj' ? 'subj' : 'np';
      return [
        eps(wt.nounNumber[0], { ...node, f: { ...f, [field]: 'sg' } }),
        eps(wt.nounNumber[1], { ...node, f: { ...f, [field]: 'pl' } }),
      ];
    }
    const tl = lx.topics[f.topic]!;
    // After an object noun its number is no longer needed: forget it (fewer states).
    const next = at(node.then!, f, slot === 'np' ? { np: '?' } : {});
    const pick = (e: InflectedEntry): string => (slotNum === 'pl' ? e.pl : e.sg);
    switch (cls) {
      case 'noun':
        return tl.nouns.map((e) => emit(e.weight, pick(e), next));
      case 'vi':
        return tl.intransitive.map((e) => emit(e.weight, pick(e), next));
      case 'vt':
        return tl.transitive.map((e) => emit(e.weight, pick(e), next));
      case 'adj':
        return tl.adjectives.map((e) => emit(e.weight, e.word, next));
      case 'place':
        return tl.places.map((e) => emit(e.weight, e.word, next));
    }
  }

  /** Determiners compatible with the number already fixed in `field`; a numbered one fixes it. */
  function determiners(f: Features, field: 'subj' | 'np', then: string): Choice<Node>[] {
    const fixed = f[field];
    return lx.determiners
      .filter((d) => d.number === 'any' || fixed === '?' || d.number === fixed)
      .map((d) => emit(d.weight, d.word, at(then, f, d.number === 'any' ? {} : { [field]: d.number })));
  }

  /** Prepositional phrase "PREP DET [ADJ] PLACE" continuing at `then`. */
  function ppNode(name: string): { prep: string; then: string } | undefined {
    const m = /^pp:(prep|det|adj|place)>(.+)$/.exec(name);
    return m ? { prep: m[1]!, then: m[2]! } : undefined;
  }

  function choices(node: Node): Choice<Node>[] {
    const f = node.f;
    if (node.at === 'draw') return drawChoices(node);
    const pp = ppNode(node.at);
    if (pp !== undefined) {
      switch (pp.prep) {
        case 'prep':
          return lx.prepositions.map((e) => emit(e.weight, e.word, at(`pp:det>${pp.then}`, f)));
        case 'det':
          return lx.placeDeterminers.map((e) => emit(e.weight, e.word, at(`pp:adj>${pp.then}`, f)));
        case 'adj':
          // At most one adjective inside a prepositional phrase.
          return [
            eps(wt.adjectives[0], at(`pp:place>${pp.then}`, f)),
            eps(wt.adjectives[1] + wt.adjectives[2], draw(f, 'adj', 'none', `pp:place>${pp.then}`)),
          ];
        default:
          return [eps(1, draw(f, 'place', 'none', pp.then))];
      }
    }
    const fresh: Partial<Features> = { subj: '?', np: '?', coord: false, question: false };
    switch (node.at) {
      case 'sentence':
        return [
          eps(2 * wt.statement, at('det:subj', f, fresh)),
          emit(wt.question, 'does', at('det:subj', f, { ...fresh, subj: 'sg', question: true })),
          emit(wt.question, 'do', at('det:subj', f, { ...fresh, subj: 'pl', question: true })),
        ];
      case 'det:subj':
        return determiners(f, 'subj', 'adj:subj');
      case 'det:obj':
        return determiners({ ...f, np: '?' }, 'np', 'adj:obj');
      case 'adj:subj':
      case 'adj:obj':
      case 'adj2:subj':
      case 'adj2:obj': {
        const role = node.at.endsWith('subj') ? 'subj' : 'obj';
        const noun = draw(f, 'noun', role === 'subj' ? 'subj' : 'np', role === 'subj' ? 'post:subj' : 'vp:end');
        if (node.at.startsWith('adj2')) return [eps(wt.adjectives[1], noun), eps(wt.adjectives[2], draw(f, 'adj', 'none', `noun:${role}`))];
        return [eps(wt.adjectives[0], noun), eps(wt.adjectives[1] + wt.adjectives[2], draw(f, 'adj', 'none', `adj2:${role}`))];
      }
      case 'noun:subj':
        return [eps(1, draw(f, 'noun', 'subj', 'post:subj'))];
      case 'noun:obj':
        return [eps(1, draw(f, 'noun', 'np', 'vp:end'))];
      case 'post:subj':
        return [eps(wt.subjectPP[0], at('verb', f)), eps(wt.subjectPP[1], at('pp:prep>verb', f))];
      case 'verb':
      case 'verb:noadv': {
        const slot: Slot = f.question ? 'base' : 'subj';
        const out = [eps(wt.intransitive, draw(f, 'vi', slot, 'vp:end')), eps(wt.transitive, draw(f, 'vt', slot, 'det:obj'))];
        if (node.at === 'verb' && !f.question) out.push(eps(wt.preVerbAdverb, at('adv:pre', f)));
        return out;
      }
      case 'adv:pre':
        return lx.preVerbAdverbs.map((e) => emit(e.weight, e.word, at('verb:noadv', f)));
      case 'adv:post':
        return lx.postVerbAdverbs.map((e) => emit(e.weight, e.word, at('mod:end', f)));
      case 'vp:end':
      case 'mod:end': {
        const stop = f.question ? '?' : '.';
        const x = node.at === 'vp:end' ? wt.vpEnd : { ...wt.modifierEnd, adverb: 0, pp: 0 };
        const out: Choice<Node>[] = [emit(x.stop, stop, at('sentence:end', f))];
        out.push(eps(x.adverb, at('adv:post', f)));
        out.push(eps(x.pp, at('pp:prep>mod:end', f)));
        if (!f.coord && !f.question) {
          out.push(emit(x.and, 'and', at('verb', f, { coord: true })));
          out.push(emit(x.but, ',', at('but', f, { coord: true })));
        }
        return out;
      }
      case 'but':
        return [emit(1, 'but', at('det:subj', f, { subj: '?', np: '?' }))];
      case 'sentence:end':
        return [
          eps(wt.documentContinue, at('sentence', f, { sticky: f.topic >= 0, ...fresh })),
          emit(wt.documentEnd, '\n', { at: END, f }),
        ];
      default:
        throw new SwarmError('DATA_GRAMMAR_INVALID', `unknown grammar node ${node.at}`);
    }
  }

  const start: Node = { at: 'sentence', f: { topic: -1, sticky: false, subj: '?', np: '?', coord: false, question: false } };
  return { start, key, isEnd: (node) => node.at === END, choices };
}

/** The grammar compiled to a source with exact integer weights. */
export function compileEnglishSource(config: EnglishGrammarConfig = DEFAULT_ENGLISH_GRAMMAR): UnifilarSource {
  return buildUnifilarSource(englishGrammarSpec(config));
}
