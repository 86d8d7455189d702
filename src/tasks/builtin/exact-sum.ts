/**
 * Sums without the drift of adding doubles one by one:
 * - integers are summed exactly; once a partial sum leaves the safe range (2^53) the sum is redone
 *   in BigInt, so the result is exact however large, returned as a bigint;
 * - any other numbers go through Shewchuk's algorithm (Python's `math.fsum`), which returns the
 *   correctly rounded value of the exact sum: 0.1 + 0.2 + 0.3 is 0.6, not 0.6000000000000001.
 * Throws a RangeError when a non-integer sum exceeds the range of a double.
 */
export function exactSum(values: ArrayLike<number>): number | bigint {
  let allIntegers = true;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isInteger(values[i])) {
      allIntegers = false;
      break;
    }
  }
  if (!allIntegers) return fsum(values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    sum += value;
    // Safe operands and a safe result mean the addition was exact; otherwise start again in BigInt.
    if (!Number.isSafeInteger(value) || !Number.isSafeInteger(sum)) return bigSum(values);
  }
  return sum;
}

function bigSum(values: ArrayLike<number>): bigint {
  let sum = 0n;
  for (let i = 0; i < values.length; i++) sum += BigInt(values[i]!);
  return sum;
}

/** The correctly rounded sum of doubles (Shewchuk 1997, as CPython's math.fsum). */
export function fsum(values: ArrayLike<number>): number {
  const partials: number[] = [];
  for (let k = 0; k < values.length; k++) {
    let x = values[k]!;
    let used = 0;
    for (let j = 0; j < partials.length; j++) {
      let y = partials[j]!;
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[used++] = lo;
      x = hi;
    }
    if (!Number.isFinite(x)) throw new RangeError('the sum exceeds the range of a double');
    partials.length = used;
    partials.push(x);
  }
  // Add the partials from the largest down, then round half-way cases the way a single exact sum would.
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n]!;
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

/**
 * The mean, rounded once: exact integer sums are divided once; otherwise the quotient of the fsum is
 * corrected by the exact residual (sum − quotient × n, the product split exactly with Dekker's
 * TwoProduct), so [0.1, 0.2, 0.3] averages to 0.2 rather than 0.19999999999999998.
 */
export function exactMean(values: ArrayLike<number>): number {
  const n = values.length;
  const total = exactSum(values);
  if (typeof total === 'bigint') {
    const quotient = total / BigInt(n);
    return Number(quotient) + Number(total - quotient * BigInt(n)) / n;
  }
  const estimate = total / n;
  if (Number.isInteger(total) || !Number.isFinite(estimate)) return estimate;
  const [product, error] = twoProduct(estimate, n);
  if (!Number.isFinite(product) || !Number.isFinite(error)) return estimate;
  const terms = Array.from(values);
  terms.push(-product, -error);
  return estimate + fsum(terms) / n;
}

/** a × b as an unevaluated sum hi + lo, exactly (Dekker 1971); valid away from overflow. */
function twoProduct(a: number, b: number): [number, number] {
  const product = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [product, ah * bh - product + ah * bl + al * bh + al * bl];
}

function split(a: number): [number, number] {
  const c = 134_217_729 * a; // 2^27 + 1
  const hi = c - (c - a);
  return [hi, a - hi];
}
