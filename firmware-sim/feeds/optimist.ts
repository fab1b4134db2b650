// A stand-in for the SAT solver that answers yes: the resolver's choices made unchecked, verified after.
import type { Checker, Literal, SatModel } from './sat.js';

/**
 * Says every set of assumptions has a model in which exactly the required literals and the
 * assumptions hold. The resolver run with it makes its first choice everywhere; when the
 * packages chosen then hold together (every dependency met, no conflict, every request met,
 * everything installed kept), each choice was one a solution has, so the SAT-checked run would
 * have made the same ones, and MiniSat need not even be loaded. Otherwise the resolver runs
 * again with the real solver.
 */
export class Optimist implements Checker {
  private readonly required = new Set<Literal>();

  clause(literals: readonly Literal[]): void {
    if (literals.length === 1 && !literals[0]!.startsWith('-')) this.required.add(literals[0]!);
  }

  solve(assumptions: readonly Literal[] = []): SatModel {
    const assumed = new Set(assumptions);
    const holds = (literal: Literal): boolean =>
      literal.startsWith('-') ? !holds(literal.slice(1)) : this.required.has(literal) || assumed.has(literal);
    return { holds };
  }

  minimize(): SatModel {
    throw new Error('internal: the optimist keeps every installed package');
  }

  quickly<T>(fn: () => T): T {
    return fn();
  }
}
