import { WeirError, errorMessage, type SourceLocation } from '../core/errors.js';
import { suggest } from '../core/suggest.js';
import { TEMPLATE_CODES } from './codes.js';
import type { FilterFn, TestFn } from './filters.js';
import { DO_EXTENSION, LOOP_CONTROL_EXTENSION, type AstNode } from './nunjucks-parse.js';
import {
  makeKeywordArgs,
  pyAdd,
  pyContains,
  pyEquals,
  pyGetItem,
  pyIterate,
  pyMethod,
  pyMod,
  pyMul,
  pySlice,
  pyStr,
  pySub,
  pyTruthy,
  pyTypeName,
  splitArgs,
  type Kwargs,
} from './py-values.js';

/**
 * Evaluates a nunjucks syntax tree with Jinja/Python semantics. Every node carries its line, so
 * errors point at the exact call even inside a macro of another file, and `return()` is a plain
 * exception caught at the macro boundary.
 */

/** A template being evaluated: a model (with its line offset) or a macro file. */
export interface Unit {
  readonly file: string;
  /** Added to template line numbers (a snapshot block inside its file). */
  readonly lineOffset: number;
  /** Package whose macros bare names resolve to first (the project's own name for models). */
  readonly packageName: string;
}

export interface InterpreterHost {
  /** Any name that is not a local variable: macros, dbt context, extra globals. */
  lookupGlobal(name: string, unit: Unit): unknown;
  /** Names offered as suggestions when an unknown function is called. */
  callableNames(unit: Unit): Iterable<string>;
  readonly filters: ReadonlyMap<string, FilterFn>;
  readonly tests: ReadonlyMap<string, TestFn>;
  /** The node being rendered, attached to errors. */
  currentNodeId(): string | undefined;
}

/** Thrown by `return(value)`; caught by the macro being executed. */
export class ReturnSignal {
  readonly value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
}

/** Thrown by `{% break %}` / `{% continue %}`; carries the output rendered before it in the iteration. */
class LoopControl {
  readonly kind: string;
  output = '';
  constructor(kind: string) {
    this.kind = kind;
  }
}

export class Frame {
  readonly vars: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  readonly parent: Frame | undefined;
  /** Writes from inner scopes stop here (macro bodies). */
  readonly isolateWrites: boolean;

  constructor(parent: Frame | undefined, isolateWrites: boolean) {
    this.parent = parent;
    this.isolateWrites = isolateWrites;
  }

  lookup(name: string): unknown {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    let frame: Frame | undefined = this;
    do {
      const value = frame.vars[name];
      if (value !== undefined) return value;
      frame = frame.parent;
    } while (frame);
    return undefined;
  }

  /** nunjucks scoping: `set` inside a loop or `if` updates an enclosing variable of that name. */
  assign(name: string, value: unknown): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    let frame: Frame | undefined = this;
    while (frame) {
      if (frame.vars[name] !== undefined) {
        frame.vars[name] = value;
        return;
      }
      if (frame.isolateWrites) break;
      frame = frame.parent;
    }
    this.vars[name] = value;
  }

  push(isolateWrites: boolean): Frame {
    return new Frame(this, isolateWrites);
  }
}

interface MacroParams {
  readonly names: readonly string[];
  readonly defaults: readonly { readonly name: string; readonly expr: AstNode }[];
}

export interface MacroDef {
  readonly name: string;
  /** A Macro or Caller node. */
  readonly node: AstNode;
  readonly unit: Unit;
  /** The scope the macro was defined in (its closure). */
  readonly closure: Frame | undefined;
  readonly params: MacroParams;
}

interface CallSite {
  readonly file: string;
  readonly line: number;
  readonly macro: string;
}

/** Loop state exposed as `loop` inside `{% for %}`. */
class LoopState {
  readonly index: number;
  readonly index0: number;
  readonly revindex: number;
  readonly revindex0: number;
  readonly first: boolean;
  readonly last: boolean;
  readonly length: number;
  readonly previtem: unknown;
  readonly nextitem: unknown;

  constructor(items: readonly unknown[], i: number) {
    const length = items.length;
    this.index = i + 1;
    this.index0 = i;
    this.revindex = length - i;
    this.revindex0 = length - i - 1;
    this.first = i === 0;
    this.last = i === length - 1;
    this.length = length;
    this.previtem = items[i - 1];
    this.nextitem = items[i + 1];
  }

  cycle(...values: unknown[]): unknown {
    return values.length === 0 ? undefined : values[this.index0 % values.length];
  }
}

const MAX_MACRO_DEPTH = 250;

/** Errors that already carry their template position; outer handlers pass them through. */
const located = new WeakSet<object>();

export function isLocated(err: unknown): boolean {
  return typeof err === 'object' && err !== null && located.has(err);
}

export function markLocated<T extends object>(err: T): T {
  located.add(err);
  return err;
}

function macroParams(node: AstNode): MacroParams {
  const names: string[] = [];
  const defaults: { name: string; expr: AstNode }[] = [];
  const children = node.args.children;
  children.forEach((arg, i) => {
    if (i === children.length - 1 && (arg.typename === 'KeywordArgs' || arg.typename === 'Dict')) {
      for (const pair of arg.children)
        defaults.push({ name: String(pair.key.value), expr: pair.value as AstNode });
    } else {
      names.push(String(arg.value));
    }
  });
  return { names, defaults };
}

/** Display name of a callee: `foo`, `adapter.quote`, `dbt_utils.star`. */
function calleeName(node: AstNode): string {
  switch (node.typename) {
    case 'Symbol':
      return String(node.value);
    case 'LookupVal': {
      const key = node.val.typename === 'Literal' ? String(node.val.value) : '[...]';
      return `${calleeName(node.target)}.${key}`;
    }
    case 'FunCall':
      return `${calleeName(node.name)}(...)`;
    case 'Literal':
      return pyStr(node.value);
    default:
      return 'expression';
  }
}

/** The leftmost node of `a.b.c(...)`: where the expression starts on the line. */
function startOf(node: AstNode): AstNode {
  let current = node;
  for (;;) {
    if (current.typename === 'LookupVal') current = current.target;
    else if (current.typename === 'FunCall') current = current.name;
    else return current;
  }
}

function compare(left: unknown, op: string, right: unknown): boolean {
  switch (op) {
    case '==':
      return pyEquals(left, right);
    case '!=':
      return !pyEquals(left, right);
    case '===':
      return left === right;
    case '!==':
      return left !== right;
    case '<':
      return (left as number) < (right as number);
    case '>':
      return (left as number) > (right as number);
    case '<=':
      return (left as number) <= (right as number);
    case '>=':
      return (left as number) >= (right as number);
    default:
      throw new Error(`unknown comparison operator '${op}'`);
  }
}

export class Interpreter {
  private readonly host: InterpreterHost;
  private readonly macroDefs = new WeakMap<object, MacroDef>();
  private callStack: CallSite[] = [];
  /** Loops enclosing the current statement within the current macro or template. */
  private loopDepth = 0;

  constructor(host: InterpreterHost) {
    this.host = host;
  }

  /** Renders a whole template; errors come out located (see `isLocated`). */
  render(root: AstNode, unit: Unit): string {
    const saved = this.callStack;
    const savedLoops = this.loopDepth;
    this.callStack = [];
    this.loopDepth = 0;
    try {
      return this.renderNode(root, new Frame(undefined, false), unit);
    } finally {
      this.callStack = saved;
      this.loopDepth = savedLoops;
    }
  }

  /** The macros a macro file defines at top level, without running anything else in it. */
  collectMacros(root: AstNode, unit: Unit): MacroDef[] {
    return root.children
      .filter((c) => c.typename === 'Macro')
      .map((node) => this.macroDef(node, unit, undefined));
  }

  /** How many macro calls deep the evaluation currently is (0 at the template's top level). */
  get macroDepth(): number {
    return this.callStack.length;
  }

  /** The callable a MacroDef is exposed as (for globals and namespaces). */
  macroFunction(def: MacroDef): (...args: unknown[]) => unknown {
    const fn = (...args: unknown[]): unknown => {
      const { positional, kwargs } = splitArgs(args);
      return this.callMacro(def, positional, kwargs, undefined, undefined);
    };
    Object.defineProperty(fn, 'name', { value: def.name });
    this.macroDefs.set(fn, def);
    return fn;
  }

  location(node: AstNode, unit: Unit): SourceLocation {
    return { file: unit.file, line: node.lineno + 1 + unit.lineOffset, column: node.colno + 1 };
  }

  /** A WeirError at `node`, with the macro call chain that led there. */
  fail(code: string, message: string, node: AstNode, unit: Unit, hint?: string, cause?: unknown): WeirError {
    return markLocated(
      new WeirError(code, message + this.calledFrom(), {
        at: this.location(node, unit),
        ...(hint ? { hint } : {}),
        ...(this.host.currentNodeId() ? { node: this.host.currentNodeId() } : {}),
        ...(this.callStack.length ? { data: { callStack: this.callStack.map((c) => ({ ...c })) } } : {}),
        ...(cause === undefined ? {} : { cause }),
      }),
    );
  }

  private calledFrom(): string {
    if (this.callStack.length === 0) return '';
    const inner = this.callStack[this.callStack.length - 1]!;
    const outer = this.callStack[0]!;
    return ` (in macro '${inner.macro}', called from ${outer.file}:${outer.line})`;
  }

  /** Gives an error thrown while evaluating `node` its position, unless it already has one. */
  private locate(err: unknown, node: AstNode, unit: Unit): unknown {
    if (err instanceof ReturnSignal || isLocated(err)) return err;
    if (err instanceof WeirError) {
      if (err.at?.line !== undefined) return markLocated(err);
      return markLocated(
        new WeirError(err.code, err.message + this.calledFrom(), {
          at: this.location(node, unit),
          ...(err.hint ? { hint: err.hint } : {}),
          ...(err.node || this.host.currentNodeId() ? { node: err.node ?? this.host.currentNodeId() } : {}),
          data: {
            ...err.data,
            ...(this.callStack.length ? { callStack: this.callStack.map((c) => ({ ...c })) } : {}),
          },
          cause: err,
        }),
      );
    }
    const message =
      err instanceof RangeError && /call stack/i.test(err.message)
        ? 'maximum recursion depth exceeded'
        : errorMessage(err);
    return this.fail(
      TEMPLATE_CODES.renderError,
      message,
      node,
      unit,
      'Check the expression on this line: a value may be None or of an unexpected type.',
      err,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Statements

  private renderNode(node: AstNode, frame: Frame, unit: Unit): string {
    switch (node.typename) {
      case 'Root':
      case 'NodeList': {
        let out = '';
        for (const child of node.children) {
          try {
            out += this.renderNode(child, frame, unit);
          } catch (err: unknown) {
            if (err instanceof LoopControl) {
              err.output = out + err.output;
              throw err;
            }
            throw this.locate(err, child, unit);
          }
        }
        return out;
      }
      case 'Output': {
        let out = '';
        for (const child of node.children) {
          if (child.typename === 'TemplateData') out += child.value as string;
          else out += pyStr(this.ev(child, frame, unit));
        }
        return out;
      }
      case 'TemplateData':
        return node.value as string;
      case 'If':
      case 'IfAsync':
        if (pyTruthy(this.ev(node.cond, frame, unit))) return this.renderNode(node.body, frame, unit);
        return node.else_ ? this.renderNode(node.else_, frame, unit) : '';
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll':
        return this.renderFor(node, frame, unit);
      case 'Set': {
        const value = node.value
          ? this.ev(node.value as AstNode, frame, unit)
          : this.ev(node.body, frame, unit);
        for (const target of node.targets) frame.assign(String(target.value), value);
        return '';
      }
      case 'Macro': {
        frame.vars[String(node.name.value)] = this.defineMacro(node, unit, frame);
        return '';
      }
      case 'CallExtension':
        if (node.extName === DO_EXTENSION) {
          for (const arg of node.args.children) this.ev(arg, frame, unit);
          return '';
        }
        if (node.extName === LOOP_CONTROL_EXTENSION) {
          const kind = (node as unknown as { prop: string }).prop;
          if (this.loopDepth === 0) {
            throw this.fail(
              TEMPLATE_CODES.syntax,
              `'${kind}' outside a for loop`,
              node,
              unit,
              'Use {% break %} and {% continue %} only inside {% for %}.',
            );
          }
          throw new LoopControl(kind);
        }
        throw this.fail(TEMPLATE_CODES.unsupportedTag, `unsupported tag '${node.extName}'`, node, unit);
      case 'Switch': {
        const value = this.ev(node.expr, frame, unit);
        let matched = false;
        for (const c of node.cases) {
          if (!matched && !pyEquals(this.ev(c.cond, frame, unit), value)) continue;
          matched = true;
          // Cases with an empty body fall through to the next one, as in nunjucks.
          if (c.body.children.length) return this.renderNode(c.body, frame, unit);
        }
        return node.default ? this.renderNode(node.default, frame, unit) : '';
      }
      case 'Block':
        return this.renderNode(node.body, frame, unit);
      case 'Extends':
      case 'Include':
      case 'Import':
      case 'FromImport':
      case 'Super': {
        const tag = node.typename === 'FromImport' ? 'from' : node.typename.toLowerCase();
        throw this.fail(
          TEMPLATE_CODES.unsupportedTag,
          `the '${tag}' tag is not supported`,
          node,
          unit,
          'Put shared SQL in a macro under macros/ and call it by name; macros are visible to every model.',
        );
      }
      default:
        return pyStr(this.ev(node, frame, unit));
    }
  }

  private renderFor(node: AstNode, outer: Frame, unit: Unit): string {
    const frame = outer.push(false);
    const source = this.ev(node.arr, frame, unit);
    const names = node.name.typename === 'Array' ? node.name.children.map((c) => String(c.value)) : undefined;
    let items: unknown[];
    if (
      names &&
      source !== null &&
      typeof source === 'object' &&
      !Array.isArray(source) &&
      !(Symbol.iterator in source)
    ) {
      // `for k, v in some_dict`: nunjucks iterates key/value pairs.
      items = Object.entries(source);
    } else {
      try {
        items = pyIterate(source);
      } catch (err: unknown) {
        throw this.locate(err, node.arr, unit);
      }
    }
    let out = '';
    const single = names ? undefined : String(node.name.value);
    this.loopDepth++;
    try {
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (single !== undefined) {
          frame.vars[single] = item;
        } else {
          names!.forEach((name, u) => {
            frame.vars[name] = pyGetItem(item, u);
          });
        }
        frame.vars.loop = new LoopState(items, i);
        try {
          out += this.renderNode(node.body, frame, unit);
        } catch (err: unknown) {
          if (!(err instanceof LoopControl)) throw err;
          out += err.output;
          if (err.kind === 'break') break;
        }
      }
    } finally {
      this.loopDepth--;
    }
    if (items.length === 0 && node.else_) out += this.renderNode(node.else_, frame, unit);
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Macros

  private macroDef(node: AstNode, unit: Unit, closure: Frame | undefined): MacroDef {
    return {
      name: node.typename === 'Caller' ? 'caller' : String(node.name.value),
      node,
      unit,
      closure,
      params: macroParams(node),
    };
  }

  private defineMacro(
    node: AstNode,
    unit: Unit,
    closure: Frame | undefined,
  ): (...args: unknown[]) => unknown {
    return this.macroFunction(this.macroDef(node, unit, closure));
  }

  private callMacro(
    def: MacroDef,
    positional: readonly unknown[],
    kwargs: Kwargs,
    callNode: AstNode | undefined,
    callUnit: Unit | undefined,
  ): unknown {
    if (this.callStack.length >= MAX_MACRO_DEPTH) {
      throw new Error(`maximum macro recursion depth (${MAX_MACRO_DEPTH}) exceeded in macro '${def.name}'`);
    }
    const { names, defaults } = def.params;
    const frame = def.closure ? def.closure.push(true) : new Frame(undefined, true);
    const kw: Kwargs = { ...kwargs };
    const varargs: unknown[] = [];
    // Argument binding follows nunjucks' makeMacro: extra positional values fill the defaulted
    // parameters in order, missing positional ones may be given by keyword.
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (i < positional.length) {
        frame.vars[name] = positional[i];
      } else if (Object.prototype.hasOwnProperty.call(kw, name)) {
        frame.vars[name] = kw[name];
        delete kw[name];
      } else {
        frame.vars[name] = undefined;
      }
    }
    for (let i = names.length; i < positional.length; i++) {
      const d = defaults[i - names.length];
      if (d) kw[d.name] = positional[i];
      else varargs.push(positional[i]);
    }
    if (Object.prototype.hasOwnProperty.call(kw, 'caller')) {
      frame.vars.caller = kw.caller;
      delete kw.caller;
    }
    for (const { name, expr } of defaults) {
      if (Object.prototype.hasOwnProperty.call(kw, name)) {
        frame.vars[name] = kw[name];
        delete kw[name];
      } else {
        frame.vars[name] = this.ev(expr, frame, def.unit);
      }
    }
    frame.vars.varargs = varargs;
    frame.vars.kwargs = kw;
    const line = callNode && callUnit ? callNode.lineno + 1 + callUnit.lineOffset : 0;
    this.callStack.push({ file: callUnit?.file ?? def.unit.file, line, macro: def.name });
    const savedLoops = this.loopDepth;
    this.loopDepth = 0;
    try {
      return this.renderNode(def.node.body, frame, def.unit);
    } catch (err: unknown) {
      if (err instanceof ReturnSignal) return err.value;
      throw err;
    } finally {
      this.callStack.pop();
      this.loopDepth = savedLoops;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  private ev(node: AstNode, frame: Frame, unit: Unit): unknown {
    switch (node.typename) {
      case 'Literal':
        return node.value;
      case 'Symbol': {
        const name = node.value as string;
        const value = frame.lookup(name);
        return value !== undefined ? value : this.host.lookupGlobal(name, unit);
      }
      case 'LookupVal':
        return this.evLookup(node, frame, unit);
      case 'FunCall':
        return this.evCall(node, frame, unit);
      case 'Filter':
        return this.evFilter(node, frame, unit);
      case 'Output':
      case 'Capture':
        return this.renderNode(node.body ?? node, frame, unit);
      case 'Group':
        return node.children.length === 1
          ? this.ev(node.children[0]!, frame, unit)
          : node.children.map((c) => this.ev(c, frame, unit));
      case 'Array':
        return node.children.map((c) => this.ev(c, frame, unit));
      case 'Dict':
      case 'KeywordArgs': {
        const out: Record<string, unknown> = {};
        for (const pair of node.children) {
          const key =
            pair.key.typename === 'Symbol' ? String(pair.key.value) : pyStr(this.ev(pair.key, frame, unit));
          out[key] = this.ev(pair.value as AstNode, frame, unit);
        }
        return out;
      }
      case 'Caller':
        return this.defineMacro(node, unit, frame);
      case 'InlineIf':
        if (pyTruthy(this.ev(node.cond, frame, unit))) return this.ev(node.body, frame, unit);
        return node.else_ ? this.ev(node.else_, frame, unit) : undefined;
      case 'In':
        try {
          return pyContains(this.ev(node.right, frame, unit), this.ev(node.left, frame, unit));
        } catch (err: unknown) {
          throw this.locate(err, node, unit);
        }
      case 'Is':
        return this.evIs(node, frame, unit);
      case 'Or': {
        const left = this.ev(node.left, frame, unit);
        return pyTruthy(left) ? left : this.ev(node.right, frame, unit);
      }
      case 'And': {
        const left = this.ev(node.left, frame, unit);
        return pyTruthy(left) ? this.ev(node.right, frame, unit) : left;
      }
      case 'Not':
        return !pyTruthy(this.ev(node.target, frame, unit));
      case 'Add':
        return pyAdd(this.ev(node.left, frame, unit), this.ev(node.right, frame, unit));
      case 'Concat':
        return pyStr(this.ev(node.left, frame, unit)) + pyStr(this.ev(node.right, frame, unit));
      case 'Sub':
        return pySub(this.ev(node.left, frame, unit), this.ev(node.right, frame, unit));
      case 'Mul':
        return pyMul(this.ev(node.left, frame, unit), this.ev(node.right, frame, unit));
      case 'Div':
        return Number(this.ev(node.left, frame, unit)) / Number(this.ev(node.right, frame, unit));
      case 'FloorDiv':
        return Math.floor(Number(this.ev(node.left, frame, unit)) / Number(this.ev(node.right, frame, unit)));
      case 'Mod':
        return pyMod(this.ev(node.left, frame, unit), this.ev(node.right, frame, unit));
      case 'Pow':
        return Math.pow(Number(this.ev(node.left, frame, unit)), Number(this.ev(node.right, frame, unit)));
      case 'Neg':
        return -Number(this.ev(node.target, frame, unit));
      case 'Pos':
        return Number(this.ev(node.target, frame, unit));
      case 'Compare': {
        let left = this.ev(node.expr, frame, unit);
        for (const op of node.ops) {
          const right = this.ev(op.expr, frame, unit);
          if (!compare(left, op.type, right)) return false;
          left = right;
        }
        return true;
      }
      case 'NodeList':
        return this.renderNode(node, frame, unit);
      default:
        throw this.fail(
          TEMPLATE_CODES.unsupportedTag,
          `unsupported expression '${node.typename}'`,
          node,
          unit,
        );
    }
  }

  private evLookup(node: AstNode, frame: Frame, unit: Unit): unknown {
    const target = this.ev(node.target, frame, unit);
    const val = node.val;
    if (val.typename === 'Slice') {
      try {
        return pySlice(
          target,
          this.ev(val.start, frame, unit),
          this.ev(val.stop, frame, unit),
          this.ev(val.step, frame, unit),
        );
      } catch (err: unknown) {
        throw this.locate(err, node, unit);
      }
    }
    const key = this.ev(val, frame, unit);
    if (typeof key === 'string') {
      const method = pyMethod(target, key);
      if (method) return method.bind(target as never);
    }
    const value = pyGetItem(target, key);
    if (
      typeof value === 'function' &&
      target !== null &&
      typeof target === 'object' &&
      !this.macroDefs.has(value)
    ) {
      return (value as (...a: unknown[]) => unknown).bind(target);
    }
    return value;
  }

  private evArgs(
    argsNode: AstNode,
    frame: Frame,
    unit: Unit,
    skip = 0,
  ): { positional: unknown[]; kwargs?: Kwargs } {
    const children = argsNode.children;
    const positional: unknown[] = [];
    let kwargs: Kwargs | undefined;
    for (let i = skip; i < children.length; i++) {
      const child = children[i]!;
      if (child.typename === 'KeywordArgs') kwargs = this.ev(child, frame, unit) as Kwargs;
      else positional.push(this.ev(child, frame, unit));
    }
    return kwargs ? { positional, kwargs } : { positional };
  }

  private evCall(node: AstNode, frame: Frame, unit: Unit): unknown {
    const callee = node.name;
    let fn: unknown;
    let thisArg: unknown;
    if (callee.typename === 'Symbol') {
      const name = callee.value as string;
      fn = frame.lookup(name);
      if (fn === undefined) fn = this.host.lookupGlobal(name, unit);
    } else if (callee.typename === 'LookupVal' && callee.val.typename !== 'Slice') {
      thisArg = this.ev(callee.target, frame, unit);
      const key = this.ev(callee.val, frame, unit);
      fn = typeof key === 'string' ? pyMethod(thisArg, key) : undefined;
      if (fn === undefined) fn = pyGetItem(thisArg, key);
    } else {
      fn = this.ev(callee, frame, unit);
    }
    if (fn === undefined) throw this.unknownFunction(callee, unit, frame);
    if (typeof fn !== 'function') {
      throw this.fail(
        TEMPLATE_CODES.notCallable,
        `'${calleeName(callee)}' is not callable (it is a ${pyTypeName(fn)})`,
        callee,
        unit,
        'Remove the parentheses to use the value, or check that the name refers to a macro.',
      );
    }
    const { positional, kwargs } = this.evArgs(node.args, frame, unit);
    try {
      const def = this.macroDefs.get(fn);
      if (def) return this.callMacro(def, positional, kwargs ?? {}, startOf(callee), unit);
      const args = kwargs ? [...positional, makeKeywordArgs(kwargs)] : positional;
      return (fn as (...a: unknown[]) => unknown).apply(thisArg, args);
    } catch (err: unknown) {
      // The callee's position (not the parenthesis nunjucks records) is where the call reads as starting.
      throw this.locate(err, startOf(callee), unit);
    }
  }

  private unknownFunction(callee: AstNode, unit: Unit, frame: Frame): WeirError {
    const name = calleeName(callee);
    const at = startOf(callee);
    if (callee.typename === 'LookupVal') {
      const owner = calleeName(callee.target);
      const target = this.ev(callee.target, frame, unit);
      if (target === null || target === undefined) {
        return this.fail(
          TEMPLATE_CODES.unknownFunction,
          `cannot call '${name}': '${owner}' is ${target === null ? 'None' : 'undefined'}`,
          at,
          unit,
          `Check that '${owner}' is defined (spelling, a missing var or config) before calling its methods.`,
        );
      }
      const members =
        typeof target === 'object' || typeof target === 'function'
          ? Object.keys(target).filter((k) => typeof (target as Record<string, unknown>)[k] === 'function')
          : [];
      const close = suggest(
        name,
        members.map((k) => `${owner}.${k}`),
        3,
      );
      return this.fail(
        TEMPLATE_CODES.unknownFunction,
        `unknown macro or function '${name}'`,
        at,
        unit,
        close.length
          ? `Did you mean ${close.map((c) => `'${c}'`).join(', ')}?`
          : `'${owner}' (a ${pyTypeName(target)}) has no method '${name.slice(owner.length + 1)}'.`,
      );
    }
    const local: string[] = [];
    for (let f: Frame | undefined = frame; f; f = f.parent) {
      for (const key of Object.keys(f.vars)) if (typeof f.vars[key] === 'function') local.push(key);
    }
    const close = suggest(name, [...local, ...this.host.callableNames(unit)], 3);
    const hint = close.length
      ? `Did you mean ${close.map((c) => `'${c}'`).join(', ')}?`
      : `Define a macro named '${name}' in a .sql file under macros/, or check the spelling.`;
    return this.fail(TEMPLATE_CODES.unknownFunction, `unknown macro or function '${name}'`, at, unit, hint);
  }

  private evFilter(node: AstNode, frame: Frame, unit: Unit): unknown {
    const name = String(node.name.value);
    const filter = this.host.filters.get(name);
    if (!filter) {
      const close = suggest(name, this.host.filters.keys(), 3);
      throw this.fail(
        TEMPLATE_CODES.unknownFilter,
        `unknown filter '${name}'`,
        node,
        unit,
        close.length ? `Did you mean ${close.map((c) => `'${c}'`).join(', ')}?` : 'Check the filter name.',
      );
    }
    const children = node.args.children;
    const value = this.ev(children[0]!, frame, unit);
    const { positional, kwargs } = this.evArgs(node.args, frame, unit, 1);
    try {
      return filter(value, positional, kwargs ?? {});
    } catch (err: unknown) {
      throw this.locate(err, node, unit);
    }
  }

  private evIs(node: AstNode, frame: Frame, unit: Unit): boolean {
    const right = node.right;
    let name: string;
    let args: unknown[] = [];
    if (right.typename === 'FunCall') {
      name = calleeName(right.name);
      args = this.evArgs(right.args, frame, unit).positional;
    } else if (right.typename === 'Literal') {
      name = right.value === null ? 'none' : pyStr(right.value).toLowerCase();
    } else {
      name = calleeName(right);
    }
    const test = this.host.tests.get(name);
    if (!test) {
      const close = suggest(name, this.host.tests.keys(), 3);
      throw this.fail(
        TEMPLATE_CODES.unknownFilter,
        `unknown test '${name}'`,
        node,
        unit,
        close.length
          ? `Did you mean ${close.map((c) => `'${c}'`).join(', ')}?`
          : 'Check the test name after `is`.',
      );
    }
    const value = this.ev(node.left, frame, unit);
    try {
      return test(value, args);
    } catch (err: unknown) {
      throw this.locate(err, node, unit);
    }
  }
}
