/**
 * A V8 heap snapshot as a graph, with each object's immediate dominator and retained size: the
 * bytes that would be freed with it, i.e. everything reachable from the roots only through it.
 * Dominators are computed as Chrome's DevTools computes them (weak edges never keep an object,
 * shortcut edges only from the root), with the iterative algorithm of Cooper, Harvey and Kennedy
 * ("A Simple, Fast Dominance Algorithm") over the depth-first post-order from the root.
 */
import { readFileSync } from 'node:fs';

/** The parts of a `.heapsnapshot` file read here. */
export interface HeapSnapshotJson {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapGraph {
  nodeCount: number;
  /** Per node (by ordinal): its type (index into `nodeTypes`), name (index into `strings`), self size. */
  nodeType: Uint8Array;
  nodeName: Uint32Array;
  selfSize: Float64Array;
  /** Node `n`'s edges are `firstEdge[n]` … `firstEdge[n + 1] - 1`. */
  firstEdge: Uint32Array;
  edgeType: Uint8Array;
  /** An index into `strings`, or an element's index for element and hidden edges. */
  edgeName: Uint32Array;
  edgeTo: Uint32Array;
  nodeTypes: string[];
  edgeTypes: string[];
  strings: string[];
  /** The immediate dominator's ordinal; -1 for the root and for nodes the root does not reach. */
  idom: Int32Array;
  /** Bytes retained: the node's own and those of every node it dominates. */
  retained: Float64Array;
}

const ROOT = 0;

function fieldIndex(fields: string[], wanted: string, what: string): number {
  const at = fields.indexOf(wanted);
  if (at < 0) throw new Error(`${what}: not a V8 heap snapshot (no ${wanted} field)`);
  return at;
}

/** Read a `.heapsnapshot` file and compute its dominators and retained sizes. */
/** @param dominators compute `idom` and `retained` (the costly part; a tally by node needs neither). @default true */
export function readHeapGraph(file: string, { dominators = true }: { dominators?: boolean } = {}): HeapGraph {
  return heapGraph(JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshotJson, file, { dominators });
}

export function heapGraph(
  snap: HeapSnapshotJson,
  what = 'snapshot',
  { dominators = true }: { dominators?: boolean } = {},
): HeapGraph {
  const { meta } = snap.snapshot;
  const nodeFields = meta.node_fields.length;
  const edgeFields = meta.edge_fields.length;
  const typeAt = fieldIndex(meta.node_fields, 'type', what);
  const nameAt = fieldIndex(meta.node_fields, 'name', what);
  const sizeAt = fieldIndex(meta.node_fields, 'self_size', what);
  const edgeCountAt = fieldIndex(meta.node_fields, 'edge_count', what);
  const edgeTypeAt = fieldIndex(meta.edge_fields, 'type', what);
  const edgeNameAt = fieldIndex(meta.edge_fields, 'name_or_index', what);
  const edgeToAt = fieldIndex(meta.edge_fields, 'to_node', what);
  const nodeCount = snap.nodes.length / nodeFields;
  const edgeCount = snap.edges.length / edgeFields;
  const nodeType = new Uint8Array(nodeCount);
  const nodeName = new Uint32Array(nodeCount);
  const selfSize = new Float64Array(nodeCount);
  const firstEdge = new Uint32Array(nodeCount + 1);
  for (let n = 0, edge = 0; n < nodeCount; n++) {
    const at = n * nodeFields;
    nodeType[n] = snap.nodes[at + typeAt]!;
    nodeName[n] = snap.nodes[at + nameAt]!;
    selfSize[n] = snap.nodes[at + sizeAt]!;
    firstEdge[n] = edge;
    edge += snap.nodes[at + edgeCountAt]!;
    firstEdge[n + 1] = edge;
  }
  const edgeType = new Uint8Array(edgeCount);
  const edgeName = new Uint32Array(edgeCount);
  const edgeTo = new Uint32Array(edgeCount);
  for (let e = 0; e < edgeCount; e++) {
    const at = e * edgeFields;
    edgeType[e] = snap.edges[at + edgeTypeAt]!;
    edgeName[e] = snap.edges[at + edgeNameAt]!;
    edgeTo[e] = snap.edges[at + edgeToAt]! / nodeFields;
  }
  const graph: HeapGraph = {
    nodeCount,
    nodeType,
    nodeName,
    selfSize,
    firstEdge,
    edgeType,
    edgeName,
    edgeTo,
    nodeTypes: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    strings: snap.strings,
    idom: new Int32Array(nodeCount).fill(-1),
    retained: new Float64Array(nodeCount),
  };
  if (dominators) computeDominators(graph);
  return graph;
}

/** Whether an edge can keep its target alive, as DevTools decides. */
function essentialEdge(graph: HeapGraph, from: number, edge: number, weak: number, shortcut: number): boolean {
  const type = graph.edgeType[edge]!;
  return type !== weak && (type !== shortcut || from === ROOT);
}

function computeDominators(graph: HeapGraph): void {
  const { nodeCount, firstEdge, edgeTo } = graph;
  const weak = graph.edgeTypes.indexOf('weak');
  const shortcut = graph.edgeTypes.indexOf('shortcut');
  // Depth-first post-order from the root over the essential edges.
  const postOf = new Int32Array(nodeCount).fill(-1);
  const order = new Uint32Array(nodeCount);
  const stack = new Uint32Array(nodeCount);
  const cursor = new Uint32Array(nodeCount);
  const seen = new Uint8Array(nodeCount);
  let reached = 0;
  let top = 0;
  stack[top++] = ROOT;
  seen[ROOT] = 1;
  cursor[ROOT] = firstEdge[ROOT]!;
  while (top > 0) {
    const node = stack[top - 1]!;
    let edge = cursor[node]!;
    let descended = false;
    for (const end = firstEdge[node + 1]!; edge < end;) {
      const to = edgeTo[edge]!;
      const keeps = essentialEdge(graph, node, edge, weak, shortcut);
      edge++;
      if (keeps && !seen[to]) {
        seen[to] = 1;
        cursor[to] = firstEdge[to]!;
        stack[top++] = to;
        descended = true;
        break;
      }
    }
    cursor[node] = edge;
    if (!descended) {
      top--;
      postOf[node] = reached;
      order[reached++] = node;
    }
  }
  // Predecessors over the essential edges, in post-order numbers.
  const predStart = new Uint32Array(reached + 1);
  for (let node = 0; node < nodeCount; node++) {
    if (postOf[node]! < 0) continue;
    for (let edge = firstEdge[node]!; edge < firstEdge[node + 1]!; edge++)
      if (essentialEdge(graph, node, edge, weak, shortcut)) predStart[postOf[edgeTo[edge]!]! + 1]! += 1;
  }
  for (let p = 0; p < reached; p++) predStart[p + 1]! += predStart[p]!;
  const preds = new Uint32Array(predStart[reached]!);
  const filled = predStart.slice(0, reached);
  for (let node = 0; node < nodeCount; node++) {
    const from = postOf[node]!;
    if (from < 0) continue;
    for (let edge = firstEdge[node]!; edge < firstEdge[node + 1]!; edge++)
      if (essentialEdge(graph, node, edge, weak, shortcut)) preds[filled[postOf[edgeTo[edge]!]!]!++] = from;
  }
  // Cooper–Harvey–Kennedy: iterate in reverse post-order until no dominator changes.
  const rootPost = reached - 1;
  const doms = new Int32Array(reached).fill(-1);
  doms[rootPost] = rootPost;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (a < b) a = doms[a]!;
      while (b < a) b = doms[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let p = rootPost - 1; p >= 0; p--) {
      let chosen = -1;
      for (let i = predStart[p]!; i < predStart[p + 1]!; i++) {
        const pred = preds[i]!;
        if (doms[pred] === -1) continue;
        chosen = chosen === -1 ? pred : intersect(pred, chosen);
      }
      if (chosen !== -1 && doms[p] !== chosen) {
        doms[p] = chosen;
        changed = true;
      }
    }
  }
  // A dominator finishes after every node it dominates: summing in post-order completes each first.
  const { idom, retained, selfSize } = graph;
  for (let p = 0; p < reached; p++) retained[order[p]!] = selfSize[order[p]!]!;
  for (let p = 0; p < rootPost; p++) {
    const node = order[p]!;
    const dominator = order[doms[p]!]!;
    idom[node] = dominator;
    retained[dominator]! += retained[node]!;
  }
}

/** The ordinals of the nodes of type object named `className` (instances of that class). */
export function instancesOf(graph: HeapGraph, className: string): number[] {
  const object = graph.nodeTypes.indexOf('object');
  const found: number[] = [];
  for (let n = 0; n < graph.nodeCount; n++)
    if (graph.nodeType[n] === object && graph.strings[graph.nodeName[n]!] === className) found.push(n);
  return found;
}

/** How an edge is named in a breakdown: a property by its name, every element as `[]`, the rest by kind. */
function edgeLabel(graph: HeapGraph, edge: number): string {
  const type = graph.edgeTypes[graph.edgeType[edge]!]!;
  if (type === 'element') return '[]';
  if (type === 'hidden') return '(hidden)';
  const name = graph.strings[graph.edgeName[edge]!] ?? String(graph.edgeName[edge]);
  return type === 'property' ? name : `(${type} ${name})`;
}

/**
 * What an object retains, split by the edges it is reached through: each object it dominates
 * directly is counted under the edges from `owner` that reach it without leaving what `owner`
 * retains — one field (`reference`), several (`input + state`: shared between them), or none
 * (`(self)`: the owner's own bytes). Paths of `depth` > 1 split an object that a single field
 * holds alone by that object's own fields (`state.windows`). The rows add up to `retained[owner]`.
 */
export function retainedByField(graph: HeapGraph, owner: number, depth = 1): Map<string, number> {
  const rows = new Map<string, number>();
  const add = (key: string, bytes: number) => rows.set(key, (rows.get(key) ?? 0) + bytes);
  split(graph, owner, depth, '', add);
  return rows;
}

function split(
  graph: HeapGraph,
  owner: number,
  depth: number,
  prefix: string,
  add: (key: string, bytes: number) => void,
): void {
  const { idom, firstEdge, edgeTo, retained } = graph;
  const dominatedByOwner = (node: number) => {
    for (let at = idom[node]!; at !== -1; at = idom[at]!) if (at === owner) return true;
    return false;
  };
  add(`${prefix}(self)`, graph.selfSize[owner]!);
  // Which of the owner's edges reach each object it dominates directly.
  const reachers = new Map<number, Set<string>>();
  const target = new Map<string, number>();
  const weak = graph.edgeTypes.indexOf('weak');
  for (let edge = firstEdge[owner]!; edge < firstEdge[owner + 1]!; edge++) {
    if (graph.edgeType[edge] === weak) continue;
    const start = edgeTo[edge]!;
    if (start === owner || !dominatedByOwner(start)) continue;
    const label = edgeLabel(graph, edge);
    target.set(label, target.has(label) && target.get(label) !== start ? -1 : start);
    const seen = new Set<number>([start]);
    for (const queue = [start]; queue.length > 0;) {
      const node = queue.pop()!;
      if (idom[node] === owner) {
        const set = reachers.get(node) ?? new Set<string>();
        set.add(label);
        reachers.set(node, set);
      }
      for (let e = firstEdge[node]!; e < firstEdge[node + 1]!; e++) {
        const to = edgeTo[e]!;
        if (graph.edgeType[e] === weak || seen.has(to) || to === owner || !dominatedByOwner(to)) continue;
        seen.add(to);
        queue.push(to);
      }
    }
  }
  for (const [node, labels] of reachers) {
    const key = [...labels].sort().join(' + ');
    const only = labels.size === 1 && target.get(key) === node;
    if (depth > 1 && only && key !== '[]') split(graph, node, depth - 1, `${prefix}${key}.`, add);
    else add(`${prefix}${key}`, retained[node]!);
  }
  // Objects the owner dominates that none of its edges reach inside its retained set do not
  // exist (each is reached from the owner); a weak-only path would leave bytes unattributed.
  let attributed = 0;
  for (const node of reachers.keys()) attributed += retained[node]!;
  const rest = retained[owner]! - graph.selfSize[owner]! - attributed;
  if (rest !== 0) add(`${prefix}(unattributed)`, rest);
}

/** Each node's directly dominated nodes, as offsets into one array (built once per graph). */
const dominatedCache = new WeakMap<HeapGraph, { start: Uint32Array; nodes: Uint32Array }>();

function dominatedLists(graph: HeapGraph): { start: Uint32Array; nodes: Uint32Array } {
  const cached = dominatedCache.get(graph);
  if (cached) return cached;
  const start = new Uint32Array(graph.nodeCount + 1);
  for (let n = 0; n < graph.nodeCount; n++) if (graph.idom[n]! >= 0) start[graph.idom[n]! + 1]! += 1;
  for (let n = 0; n < graph.nodeCount; n++) start[n + 1]! += start[n]!;
  const nodes = new Uint32Array(start[graph.nodeCount]!);
  const filled = start.slice(0, graph.nodeCount);
  for (let n = 0; n < graph.nodeCount; n++) if (graph.idom[n]! >= 0) nodes[filled[graph.idom[n]!]!++] = n;
  const lists = { start, nodes };
  dominatedCache.set(graph, lists);
  return lists;
}

/** A node's kind in a composition: its type, and its constructor or system name (strings and code by type alone). */
function kindOf(graph: HeapGraph, node: number): string {
  const type = graph.nodeTypes[graph.nodeType[node]!]!;
  if (/string|number|code|closure|regexp/.test(type)) return `(${type})`;
  const name = graph.strings[graph.nodeName[node]!]!;
  return `${type === 'object' ? '' : `(${type}) `}${name.slice(0, 60)}`;
}

/**
 * What `owner` retains by kind of object (self bytes summed per kind), leaving out what the
 * nodes in `excluded` retain: e.g. the SDK's Activator without the monitor state it holds.
 */
export function retainedComposition(
  graph: HeapGraph,
  owner: number,
  excluded: ReadonlySet<number>,
): Map<string, number> {
  const { start, nodes } = dominatedLists(graph);
  const kinds = new Map<string, number>();
  for (const stack = [owner]; stack.length > 0;) {
    const node = stack.pop()!;
    if (node !== owner && excluded.has(node)) continue;
    const kind = kindOf(graph, node);
    kinds.set(kind, (kinds.get(kind) ?? 0) + graph.selfSize[node]!);
    for (let i = start[node]!; i < start[node + 1]!; i++) stack.push(nodes[i]!);
  }
  return kinds;
}
