// The SAT solver behind the resolver (MiniSat, through the logic-solver package), loaded on first use.
import { createRequire } from 'node:module';
import { FeedError } from './errors.js';

/** A literal: a variable name, or `-name` for its negation. */
export type Literal = string;

/** An assignment found by the solver. */
export interface SatModel {
  /** Whether a literal is true in this assignment. */
  holds(literal: Literal): boolean;
}

/** What the resolver asks of a solver: clauses that stay, and solving under assumptions. */
export interface Checker {
  /** Adds the clause `l1 ∨ l2 ∨ …`. */
  clause(literals: readonly Literal[]): void;
  /** A model where every assumption holds, or `undefined` if there is none. */
  solve(assumptions?: readonly Literal[]): SatModel | undefined;
  /** A model that makes as few of `literals` true as possible (weighted), now required. */
  minimize(model: SatModel, literals: readonly Literal[], weights: readonly number[]): SatModel;
  /** Runs a batch of calls. */
  quickly<T>(fn: () => T): T;
}

/** A model of logic-solver. */
class LogicModel implements SatModel {
  constructor(readonly solution: LogicSolution) {
    solution.ignoreUnknownVariables();
  }

  holds(literal: Literal): boolean {
    return this.solution.evaluate(literal);
  }
}

/** The part of logic-solver the resolver uses. */
interface LogicSolution {
  evaluate(term: Literal): boolean;
  ignoreUnknownVariables(): void;
}
interface LogicFormula {
  readonly type?: string;
}
interface LogicSolver {
  require(...formulas: Array<LogicFormula | Literal>): void;
  /** With a variable number: MiniSat's solve under that one assumption (logic-solver's internal form). */
  solve(assumption?: number): LogicSolution | null;
  solveAssuming(formula: LogicFormula | Literal): LogicSolution | null;
  getVarNum(name: string): number;
  minimizeWeightedSum(
    solution: LogicSolution,
    formulas: Array<LogicFormula | Literal>,
    weights: number[],
  ): LogicSolution;
}
interface LogicModule {
  Solver: new () => LogicSolver;
  or(...terms: Array<LogicFormula | Literal>): LogicFormula;
  and(...terms: Array<LogicFormula | Literal>): LogicFormula;
  not(term: LogicFormula | Literal): LogicFormula;
  atMostOne(...terms: Literal[]): LogicFormula;
  disablingAssertions<T>(run: () => T): T;
}

let logic: LogicModule | undefined;

/**
 * logic-solver compiles MiniSat (asm.js) when it loads, which costs a few hundred milliseconds:
 * loaded only when a plan is computed, never for listing or searching.
 */
function load(): LogicModule {
  logic ??= createRequire(import.meta.url)('logic-solver') as LogicModule;
  return logic;
}

/**
 * An incremental SAT problem over named variables: clauses are added once and stay; `solve`
 * takes assumptions that hold for that call only. MiniSat runs in a fixed 64 MiB heap: when a
 * problem outgrows it, the call fails with `FEED_RESOLVER_LIMIT` instead of taking the process down.
 */
export class SatProblem implements Checker {
  private readonly logic = load();
  private readonly solver = new this.logic.Solver();
  private unsat = false;
  private assumptions = 0;

  /** Declares a variable, so that a model gives it a value even if no clause names it. */
  variable(name: string): void {
    this.guard(() => this.solver.getVarNum(name));
  }

  /** Adds the clause `l1 ∨ l2 ∨ …` (no literal: the problem becomes unsatisfiable). */
  clause(literals: readonly Literal[]): void {
    if (literals.length === 0) {
      this.unsat = true;
      return;
    }
    this.guard(() => this.solver.require(this.logic.or(...literals)));
  }

  /** Adds: at most one of these literals is true. */
  atMostOne(literals: readonly Literal[]): void {
    if (literals.length < 2) return;
    if (literals.length <= 12) {
      for (let i = 0; i < literals.length; i++) {
        for (let j = i + 1; j < literals.length; j++)
          this.clause([negate(literals[i]!), negate(literals[j]!)]);
      }
      return;
    }
    this.guard(() => this.solver.require(this.logic.atMostOne(...literals)));
  }

  /** A model where every assumption holds, or `undefined` if there is none. */
  solve(assumptions: readonly Literal[] = []): SatModel | undefined {
    if (this.unsat) return undefined;
    const solution = this.guard(() => {
      if (assumptions.length === 0) return this.solver.solve();
      const only = assumptions.length === 1 ? assumptions[0]! : undefined;
      if (only !== undefined && !only.startsWith('-')) return this.solver.solve(this.solver.getVarNum(only));
      // A fresh variable that implies every assumption, passed to MiniSat as its one assumption.
      // logic-solver's own solveAssuming keeps a formula per call and copies that list into
      // every solution, which makes thousands of calls quadratic; plain clauses do not.
      const assumption = `q${this.assumptions++}`;
      this.logic.disablingAssertions(() => {
        for (const literal of assumptions) this.solver.require(this.logic.or(`-${assumption}`, literal));
      });
      return this.solver.solve(this.solver.getVarNum(assumption));
    });
    return solution === null ? undefined : new LogicModel(solution);
  }

  /**
   * Finds a model that makes as few of `literals` true as possible (each counted with its weight),
   * starting from `model`, a model of the current clauses; the minimum is then required.
   */
  minimize(model: SatModel, literals: readonly Literal[], weights: readonly number[]): SatModel {
    if (literals.length === 0) return model;
    const { solution } = model as LogicModel;
    return new LogicModel(
      this.guard(() => this.solver.minimizeWeightedSum(solution, [...literals], [...weights])),
    );
  }

  /** Runs `fn` with logic-solver's argument checks off (they cost more than the solving). */
  quickly<T>(fn: () => T): T {
    return this.logic.disablingAssertions(fn);
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      // Emscripten's abort() throws a string: MiniSat's heap is full.
      if (typeof error !== 'string' || !error.startsWith('abort(')) throw error;
      throw new FeedError(
        'FEED_RESOLVER_LIMIT',
        'the resolver ran out of memory on this problem: install fewer packages at once',
        { cause: error },
      );
    }
  }
}

/** The negation of a literal. */
export function negate(literal: Literal): Literal {
  return literal.startsWith('-') ? literal.slice(1) : `-${literal}`;
}
