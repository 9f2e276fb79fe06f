/**
 * The few jStat functions the statistics library uses (jstat ships no types of its own).
 * jstat is a CommonJS module whose export carries itself as `jStat`.
 */
declare module 'jstat' {
  interface ContinuousDistribution {
    cdf(x: number, ...params: number[]): number;
    inv(p: number, ...params: number[]): number;
  }
  interface JStat {
    normal: { cdf(x: number, mean: number, sd: number): number; inv(p: number, mean: number, sd: number): number };
    studentt: { cdf(x: number, df: number): number; inv(p: number, df: number): number };
    chisquare: { cdf(x: number, df: number): number; inv(p: number, df: number): number };
    gammaln(x: number): number;
    noncentralt: ContinuousDistribution;
  }
  const pkg: { jStat: JStat };
  export default pkg;
}
