/**
 * Cycles in a directed graph, for the import check (./import-rules.ts): a
 * cycle of imports, even a type-only one, means two files are one concept
 * split in two, or a shared type lives in the wrong file (DESIGN.md,
 * "Layout"). Pure, over plain node names, so its own test can feed it small
 * graphs.
 *
 * Tarjan's strongly connected components (R. Tarjan, "Depth-first search
 * and linear graph algorithms", SIAM J. Comput. 1(2), 1972): every cycle
 * lies inside one component, and a component with two or more nodes (or a
 * node with an edge to itself) holds at least one. For each such component
 * one shortest cycle through its first node (in sorted order) is reported,
 * so the output is the same on every run and names a path to break.
 */

export type Graph = ReadonlyMap<string, readonly string[]>;

/** Strongly connected components with a cycle, each sorted; components in sorted order of their first node. */
export function cyclicComponents(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  const edges = (n: string): readonly string[] => graph.get(n) ?? [];

  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || edges(v).includes(v)) out.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}

/**
 * One shortest cycle through `start` inside `within` (breadth-first, edges
 * taken in sorted order), as a path that ends where it began: [a, b, a].
 */
export function shortestCycle(graph: Graph, start: string, within: ReadonlySet<string>): string[] {
  const parent = new Map<string, string>();
  let frontier = [start];
  const seen = new Set([start]);
  while (frontier.length > 0) {
    const nextFrontier: string[] = [];
    for (const v of frontier) {
      for (const w of [...(graph.get(v) ?? [])].sort()) {
        if (w === start) {
          const path = [start];
          for (let u = v; u !== start; u = parent.get(u)!) path.splice(1, 0, u);
          return [...path, start];
        }
        if (within.has(w) && !seen.has(w)) {
          seen.add(w);
          parent.set(w, v);
          nextFrontier.push(w);
        }
      }
    }
    frontier = nextFrontier;
  }
  return [];
}

/** One cycle per cyclic component, each a path [a, ..., a]. */
export function findCycles(graph: Graph): string[][] {
  return cyclicComponents(graph).map((c) => shortestCycle(graph, c[0]!, new Set(c)));
}
