import { createHash, randomUUID } from 'node:crypto';
import { Diagnostics, type Diagnostic } from '../core/diagnostics.js';
import { WeirError, errorMessage } from '../core/errors.js';
import { preprocessMacroSource } from './blocks.js';
import { TEMPLATE_CODES } from './codes.js';
import { createFilters, createTests, type FilterFn, type TestFn } from './filters.js';
import { Interpreter, ReturnSignal, isLocated, type InterpreterHost, type Unit } from './interpreter.js';
import { TemplateSyntaxError, parseTemplate, stripFinalNewline, type AstNode } from './nunjucks-parse.js';
import type { ParseCache } from './parse-cache.js';
import {
  PyDateTime,
  datetimeModule,
  isPlainObject,
  pyIterate,
  pyStr,
  pyTruthy,
  splitArgs,
} from './py-values.js';
import { quoteIdentifier, type Relation } from './relation.js';

/** Everything a template may ask about the node being rendered; the caller resolves names. */
export interface RenderContext {
  /** Project-relative path, for errors. */
  readonly file: string;
  /** Added to template line numbers (snapshot blocks inside a file). */
  readonly lineOffset?: number;
  readonly nodeId?: string;
  /** `ref('m')` or `ref('pkg', 'm')`; may throw a WeirError, which gets the template position. */
  ref(args: readonly string[]): Relation | string;
  source(sourceName: string, tableName: string): Relation | string;
  readonly config: {
    set(values: Record<string, unknown>): void;
    get(key: string, fallback?: unknown): unknown;
  };
  /** Project vars merged with --vars. */
  readonly vars: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** name, type, schema, threads, ... */
  readonly target: Readonly<Record<string, unknown>>;
  /** `{{ this }}`. */
  readonly thisRelation?: Relation;
  /** `is_incremental()`. */
  readonly isIncremental: boolean;
  readonly runStartedAt?: Date;
  readonly invocationId?: string;
  /** Extra names (partition_start, ...); they win over macros and the dbt context. */
  readonly globals?: Readonly<Record<string, unknown>>;
  /** Receives `log(msg)`, `print(msg)` and `exceptions.warn(msg)`; ignored when absent. */
  onLog?(message: string, level: 'info' | 'debug' | 'warn'): void;
}

export interface MacroFile {
  /** Project-relative path, for errors. */
  readonly path: string;
  readonly content: string;
  /**
   * Package the macros belong to (a dbt package under dbt_packages/); defaults to the project.
   * The project's macros are callable by bare name, every package's as `package.macro`.
   */
  readonly package?: string;
}

export interface TemplateEngineOptions {
  readonly projectName: string;
  readonly macroFiles: readonly MacroFile[];
  /** Trees of earlier runs, looked up before parsing and given every new tree. */
  readonly parseCache?: ParseCache;
}

interface RenderState {
  readonly ctx: RenderContext;
}

const MAX_CACHED_TEMPLATES = 20_000;
const JINJA_START = /\{[{%#]/;

const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

function syntaxHint(message: string): string {
  if (message.startsWith('unknown block tag')) {
    return 'Weir understands the Jinja tags dbt projects use (if, for, set, macro, call, filter, do, raw); check the tag name and its end tag.';
  }
  if (/never closed|does not close|end of file|expected (elif|else|end)/i.test(message)) {
    return 'A block is not closed: every {% if %}, {% for %}, {% macro %} and {% set %}...{% endset %} needs its {% end... %}.';
  }
  return 'Fix the Jinja syntax at this position: check the braces, quotes, commas and parentheses.';
}

/**
 * Renders dbt-style Jinja SQL: models, snapshots and tests, with the project's macros and dbt's
 * context (`ref`, `source`, `config`, `var`, `env_var`, `is_incremental`, `this`, `target`, ...).
 * Macro files are parsed once per engine and templates are cached by content, so rendering a
 * model costs a parse of that model only.
 */
export class TemplateEngine {
  /** Bare names of the project's own macros, sorted. */
  readonly macroNames: readonly string[];
  /** Problems in macro files that do not stop rendering (ignored materializations). */
  readonly warnings: readonly Diagnostic[];

  private readonly filters: ReadonlyMap<string, FilterFn>;
  private readonly tests: ReadonlyMap<string, TestFn>;
  private readonly projectName: string;
  private readonly interpreter: Interpreter;
  /** package -> macro name -> callable. */
  private readonly packages = new Map<string, Map<string, (...args: unknown[]) => unknown>>();
  /** `dbt_utils.star(...)`: package name -> macros as an object. */
  private readonly namespaces = new Map<string, Record<string, unknown>>();
  private readonly builtins: Record<string, unknown>;
  private readonly cache = new Map<string, AstNode>();
  private readonly parseCache: ParseCache | undefined;
  private readonly startedAt = new Date();
  private readonly defaultInvocationId = randomUUID();
  private state: RenderState | undefined;

  constructor(options: TemplateEngineOptions) {
    this.projectName = options.projectName;
    this.parseCache = options.parseCache;
    this.tests = createTests();
    this.filters = createFilters(this.tests);
    const host: InterpreterHost = {
      lookupGlobal: (name, unit) => this.lookupGlobal(name, unit),
      callableNames: (unit) => this.callableNames(unit),
      filters: this.filters,
      tests: this.tests,
      currentNodeId: () => this.state?.ctx.nodeId,
    };
    this.interpreter = new Interpreter(host);
    this.builtins = this.createBuiltins();
    const diagnostics = new Diagnostics();
    this.packages.set(this.projectName, new Map());
    const definedAt = new Map<string, string>();
    for (const file of options.macroFiles) {
      const packageName = file.package ?? this.projectName;
      const { source, warnings } = preprocessMacroSource(file.content, file.path);
      for (const w of warnings) diagnostics.add(w);
      let ast: AstNode;
      try {
        ast = this.parse(source);
      } catch (err: unknown) {
        diagnostics.fromError(this.syntaxError(err, file.path, 0));
        continue;
      }
      const unit: Unit = { file: file.path, lineOffset: 0, packageName };
      let macros = this.packages.get(packageName);
      if (!macros) {
        macros = new Map();
        this.packages.set(packageName, macros);
      }
      for (const def of this.interpreter.collectMacros(ast, unit)) {
        const line = def.node.lineno + 1;
        const key = `${packageName}.${def.name}`;
        const first = definedAt.get(key);
        if (first !== undefined) {
          diagnostics.error(
            TEMPLATE_CODES.duplicateMacro,
            `macro '${def.name}' is defined twice (first at ${first})`,
            {
              at: { file: file.path, line },
              hint: 'Rename or delete one of the two macros; macro names are global within a project.',
            },
          );
          continue;
        }
        definedAt.set(key, `${file.path}:${line}`);
        macros.set(def.name, this.interpreter.macroFunction(def));
      }
    }
    diagnostics.throwIfErrors();
    this.warnings = diagnostics.items.filter((d) => d.severity === 'warning');
    for (const [packageName, macros] of this.packages) {
      this.namespaces.set(packageName, Object.fromEntries(macros));
    }
    this.macroNames = [...this.packages.get(this.projectName)!.keys()].sort();
  }

  /** The tree of a template: from the parse cache when it has one, else parsed (and cached). */
  private parse(template: string): AstNode {
    const cached = this.parseCache?.get(template);
    if (cached) return cached;
    const ast = parseTemplate(template);
    this.parseCache?.set(template, ast);
    return ast;
  }

  /** Renders a template for one node. Throws a WeirError (WEIR-T0xx) located at file:line. */
  render(template: string, ctx: RenderContext): string {
    // Plain SQL needs neither a parse nor a cache entry.
    if (!JINJA_START.test(template)) return stripFinalNewline(template);
    const lineOffset = ctx.lineOffset ?? 0;
    let ast = this.cache.get(template);
    if (!ast) {
      try {
        ast = this.parse(template);
      } catch (err: unknown) {
        throw this.syntaxError(err, ctx.file, lineOffset, ctx.nodeId);
      }
      if (this.cache.size >= MAX_CACHED_TEMPLATES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(template, ast);
    }
    const unit: Unit = { file: ctx.file, lineOffset, packageName: this.projectName };
    const saved = this.state;
    this.state = { ctx };
    try {
      return this.interpreter.render(ast, unit);
    } catch (err: unknown) {
      throw this.renderError(err, ctx);
    } finally {
      this.state = saved;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Name resolution for the interpreter

  private lookupGlobal(name: string, unit: Unit): unknown {
    const globals = this.state?.ctx.globals;
    if (globals !== undefined && hasOwn(globals, name)) return globals[name];
    const macro = this.packages.get(unit.packageName)?.get(name);
    if (macro !== undefined) return macro;
    const dynamic = this.dynamicGlobal(name);
    if (dynamic !== undefined) return dynamic;
    if (hasOwn(this.builtins, name)) return this.builtins[name];
    return this.namespaces.get(name);
  }

  private callableNames(unit: Unit): Iterable<string> {
    const names = new Set<string>(this.packages.get(unit.packageName)?.keys());
    for (const [name, value] of Object.entries(this.builtins))
      if (typeof value === 'function') names.add(name);
    for (const [pkg, macros] of this.namespaces) {
      if (pkg === unit.packageName) continue;
      for (const macro of Object.keys(macros)) names.add(`${pkg}.${macro}`);
    }
    return names;
  }

  // -------------------------------------------------------------------------------------------
  // dbt context

  private ctx(what: string): RenderContext {
    const state = this.state;
    if (!state) {
      throw new WeirError(TEMPLATE_CODES.renderError, `${what} is only available while a model is rendered`, {
        hint: 'Call macros from a model, snapshot or test, not at the top level of a macro file.',
      });
    }
    return state.ctx;
  }

  /** Names whose value depends on the node being rendered. */
  private dynamicGlobal(name: string): unknown {
    const ctx = this.state?.ctx;
    if (!ctx) return undefined;
    switch (name) {
      case 'this':
        return ctx.thisRelation;
      case 'target':
        return ctx.target;
      case 'run_started_at':
        return new PyDateTime(ctx.runStartedAt ?? this.startedAt);
      case 'invocation_id':
        return ctx.invocationId ?? this.defaultInvocationId;
      case 'schema':
        return ctx.thisRelation?.schema ?? ctx.target.schema;
      case 'database':
        return ctx.thisRelation?.database ?? ctx.target.database;
      default:
        return undefined;
    }
  }

  private createBuiltins(): Record<string, unknown> {
    const badArgs = (message: string, hint: string): WeirError =>
      new WeirError(TEMPLATE_CODES.badArguments, message, { hint });

    const ref = (...args: unknown[]): unknown => {
      const ctx = this.ctx('ref()');
      const { positional } = splitArgs(args);
      if (positional.length < 1 || positional.length > 2 || positional.some((a) => typeof a !== 'string')) {
        throw badArgs(
          `ref() takes one or two names, got ref(${positional.map((a) => pyStr(a)).join(', ')})`,
          "Write ref('model_name') or ref('package_name', 'model_name').",
        );
      }
      return ctx.ref(positional as string[]);
    };

    const source = (...args: unknown[]): unknown => {
      const ctx = this.ctx('source()');
      const { positional } = splitArgs(args);
      if (positional.length !== 2 || positional.some((a) => typeof a !== 'string')) {
        throw badArgs(
          `source() takes a source name and a table name, got source(${positional.map((a) => pyStr(a)).join(', ')})`,
          "Write source('source_name', 'table_name') as declared in a sources: block of a .yml file.",
        );
      }
      return ctx.source(positional[0] as string, positional[1] as string);
    };

    const setConfig = (values: Record<string, unknown>): void => this.ctx('config()').config.set(values);
    const config = Object.assign(
      (...args: unknown[]): string => {
        const { positional, kwargs } = splitArgs(args);
        for (const p of positional) {
          if (!isPlainObject(p)) {
            throw badArgs(
              'config() takes keyword arguments or a dict',
              "Write config(materialized='table') or config({'materialized': 'table'}).",
            );
          }
          setConfig({ ...p });
        }
        if (Object.keys(kwargs).length) setConfig(kwargs);
        return '';
      },
      {
        get: (...args: unknown[]): unknown => {
          const { positional, kwargs } = splitArgs(args);
          const fallback =
            positional.length > 1 ? positional[1] : hasOwn(kwargs, 'default') ? kwargs.default : null;
          const value = this.ctx('config.get()').config.get(pyStr(positional[0] ?? kwargs.name), fallback);
          return value === undefined ? fallback : value;
        },
        require: (name: unknown): unknown => {
          const value = this.ctx('config.require()').config.get(pyStr(name));
          if (value === undefined || value === null) {
            throw badArgs(
              `config '${pyStr(name)}' is required but not set`,
              `Set it with {{ config(${pyStr(name)}=...) }} in the model or under models: in dbt_project.yml.`,
            );
          }
          return value;
        },
        set: (...args: unknown[]): string => {
          const { positional, kwargs } = splitArgs(args);
          if (typeof positional[0] === 'string') setConfig({ [positional[0]]: positional[1] });
          else if (isPlainObject(positional[0])) setConfig({ ...positional[0] });
          if (Object.keys(kwargs).length) setConfig(kwargs);
          return '';
        },
      },
    );

    const varFn = (...args: unknown[]): unknown => {
      const ctx = this.ctx('var()');
      const { positional, kwargs } = splitArgs(args);
      const name = positional[0];
      if (typeof name !== 'string') {
        throw badArgs(
          'var() takes the variable name as a string',
          "Write var('name') or var('name', default).",
        );
      }
      if (hasOwn(ctx.vars, name)) return ctx.vars[name];
      if (positional.length > 1) return positional[1];
      if (hasOwn(kwargs, 'default')) return kwargs.default;
      throw new WeirError(TEMPLATE_CODES.missingVar, `var '${name}' is not defined`, {
        hint: `Define it under vars: in dbt_project.yml, pass it with --vars '{"${name}": ...}', or give a default: var('${name}', ...).`,
        data: { var: name },
      });
    };

    const envVar = (...args: unknown[]): unknown => {
      const ctx = this.ctx('env_var()');
      const { positional, kwargs } = splitArgs(args);
      const name = positional[0];
      if (typeof name !== 'string') {
        throw badArgs(
          'env_var() takes the variable name as a string',
          "Write env_var('NAME') or env_var('NAME', 'default').",
        );
      }
      const value = ctx.env[name];
      if (value !== undefined) return value;
      if (positional.length > 1) return positional[1];
      if (hasOwn(kwargs, 'default')) return kwargs.default;
      throw new WeirError(TEMPLATE_CODES.missingEnvVar, `environment variable '${name}' is not set`, {
        hint: `Set ${name} in the environment, or give a default: env_var('${name}', 'value').`,
        data: { envVar: name },
      });
    };

    const log = (...args: unknown[]): string => {
      const { positional, kwargs } = splitArgs(args);
      const info = pyTruthy(positional[1] ?? kwargs.info);
      this.state?.ctx.onLog?.(pyStr(positional[0]), info ? 'info' : 'debug');
      return '';
    };

    const raiseCompilerError = (...args: unknown[]): never => {
      throw new WeirError(TEMPLATE_CODES.compilerError, pyStr(splitArgs(args).positional[0]), {
        hint: "This error is raised by the project's own Jinja (exceptions.raise_compiler_error); its message says what to fix.",
      });
    };

    const returnFn = (...args: unknown[]): never => {
      if (this.interpreter.macroDepth === 0) {
        throw new WeirError(TEMPLATE_CODES.returnOutsideMacro, 'return() can only be used inside a macro', {
          hint: 'Move the code into a {% macro %} or output the value with {{ ... }}.',
        });
      }
      const value = splitArgs(args).positional[0];
      throw new ReturnSignal(value === undefined ? null : value);
    };

    const adapter = {
      quote: (name: unknown): string => quoteIdentifier(pyStr(name)),
      type: (): string => pyStr(this.state?.ctx.target.type ?? 'duckdb'),
      dispatch: (...args: unknown[]): unknown => {
        const { positional, kwargs } = splitArgs(args);
        const name = pyStr(positional[0] ?? kwargs.macro_name);
        const namespace = positional[1] ?? kwargs.macro_namespace;
        const adapterType = pyStr(this.state?.ctx.target.type ?? 'duckdb');
        const searched = [this.projectName];
        if (typeof namespace === 'string' && namespace !== this.projectName) searched.push(namespace);
        const tried: string[] = [];
        for (const prefix of [adapterType, 'default']) {
          for (const pkg of searched) {
            const candidate = `${prefix}__${name}`;
            tried.push(pkg === this.projectName ? candidate : `${pkg}.${candidate}`);
            const macro = this.packages.get(pkg)?.get(candidate);
            if (macro) return macro;
          }
        }
        throw new WeirError(TEMPLATE_CODES.unknownFunction, `adapter.dispatch found no macro for '${name}'`, {
          hint: `Define one of: ${tried.join(', ')}.`,
        });
      },
    };

    const zip = (...args: unknown[]): unknown[][] => {
      const lists = splitArgs(args).positional.map(pyIterate);
      const length = lists.length ? Math.min(...lists.map((l) => l.length)) : 0;
      return Array.from({ length }, (_, i) => lists.map((l) => l[i]));
    };

    const dict = (...args: unknown[]): Record<string, unknown> => {
      const { positional, kwargs } = splitArgs(args);
      const out: Record<string, unknown> = {};
      for (const p of positional) {
        if (isPlainObject(p)) Object.assign(out, p);
        else for (const pair of pyIterate(p)) out[pyStr((pair as unknown[])[0])] = (pair as unknown[])[1];
      }
      return Object.assign(out, kwargs);
    };

    const range = (...args: unknown[]): number[] => {
      const nums = splitArgs(args).positional.map(Number);
      const [start, stop, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
      if (step === 0) throw new Error('range() arg 3 must not be zero');
      const out: number[] = [];
      if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
      else for (let i = start; i > stop; i += step) out.push(i);
      return out;
    };

    const toJson = (...args: unknown[]): unknown => {
      const { positional, kwargs } = splitArgs(args);
      return this.filters.get('tojson')!(positional[0], positional.slice(1), kwargs);
    };

    const fromJson = (...args: unknown[]): unknown => {
      const { positional } = splitArgs(args);
      try {
        return JSON.parse(pyStr(positional[0])) as unknown;
      } catch (err: unknown) {
        if (positional.length > 1) return positional[1];
        throw new Error(`fromjson(): ${errorMessage(err)}`);
      }
    };

    const joiner = (sep?: unknown): (() => string) => {
      let first = true;
      return () => {
        if (first) {
          first = false;
          return '';
        }
        return sep === undefined ? ', ' : pyStr(sep);
      };
    };

    const builtins: Record<string, unknown> = {
      ref,
      source,
      config,
      var: varFn,
      env_var: envVar,
      is_incremental: (): boolean => this.ctx('is_incremental()').isIncremental,
      log,
      print: (...args: unknown[]): string => log(splitArgs(args).positional[0], true),
      exceptions: {
        raise_compiler_error: raiseCompilerError,
        raise_not_implemented: raiseCompilerError,
        warn: (...args: unknown[]): string => {
          this.state?.ctx.onLog?.(pyStr(splitArgs(args).positional[0]), 'warn');
          return '';
        },
      },
      return: returnFn,
      adapter,
      modules: { datetime: datetimeModule(() => new Date()) },
      tojson: toJson,
      fromjson: fromJson,
      local_md5: (value: unknown): string => createHash('md5').update(pyStr(value)).digest('hex'),
      zip,
      dict,
      namespace: dict,
      range,
      joiner,
      execute: true,
      True: true,
      False: false,
      None: null,
    };
    builtins.builtins = { ref, source, config };
    return builtins;
  }

  // -------------------------------------------------------------------------------------------
  // Errors

  private syntaxError(err: unknown, file: string, lineOffset: number, nodeId?: string): WeirError {
    const message = err instanceof TemplateSyntaxError ? err.message : errorMessage(err);
    const line =
      err instanceof TemplateSyntaxError && err.line !== undefined ? err.line + lineOffset : undefined;
    const column = err instanceof TemplateSyntaxError ? err.column : undefined;
    return new WeirError(TEMPLATE_CODES.syntax, `Jinja syntax error: ${message}`, {
      at: { file, ...(line === undefined ? {} : { line }), ...(column === undefined ? {} : { column }) },
      hint: syntaxHint(message),
      ...(nodeId ? { node: nodeId } : {}),
    });
  }

  private renderError(err: unknown, ctx: RenderContext): WeirError {
    if (err instanceof WeirError) {
      if (isLocated(err) || err.at) return err;
      return new WeirError(err.code, err.message, {
        at: { file: ctx.file },
        ...(err.hint ? { hint: err.hint } : {}),
        ...(ctx.nodeId ? { node: ctx.nodeId } : {}),
        cause: err,
      });
    }
    return new WeirError(TEMPLATE_CODES.renderError, `template render failed: ${errorMessage(err)}`, {
      at: { file: ctx.file },
      hint: 'Check the Jinja in this file.',
      ...(ctx.nodeId ? { node: ctx.nodeId } : {}),
      cause: err,
    });
  }
}
