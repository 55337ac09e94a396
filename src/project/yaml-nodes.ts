/** The located YAML tree shared by the fast path and the library path (see yaml-tree.ts). */
export interface Loc {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export interface YScalar {
  readonly kind: 'scalar';
  readonly value: unknown;
  readonly loc: Loc;
}

export interface YPair {
  readonly key: string;
  readonly keyLoc: Loc;
  readonly value: YNode;
}

export interface YMap {
  readonly kind: 'map';
  readonly pairs: readonly YPair[];
  readonly loc: Loc;
}

export interface YSeq {
  readonly kind: 'seq';
  readonly items: readonly YNode[];
  readonly loc: Loc;
}

export type YNode = YScalar | YMap | YSeq;
