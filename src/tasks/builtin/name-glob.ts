/**
 * A file-name glob: `*` matches any run of characters (none included), `?` exactly one character,
 * everything else only itself; the whole name must match.
 *
 * Why not a RegExp, ours or a library's: a pattern comes from a task's payload, and a backtracking
 * regular expression built from it can take exponential time. The old `*` to `.*` translation hung a
 * worker on `****************!` against one 40-character name, and picomatch is no cure (on one
 * 40-character name its `*a*a*a*a*a*a*a*!` took 1.6 s here, and every further `*a` multiplies that). This is the
 * classic wildcard match instead: on a mismatch it returns to the last `*` only, so one name costs at
 * most (pattern length x name length) steps, whatever the pattern.
 */
export function globMatcher(pattern: string): (name: string) => boolean {
  // Code points, so `?` is one character even outside the Basic Multilingual Plane; runs of `*` are one `*`.
  const glob = [...pattern].filter((char, index, chars) => char !== '*' || chars[index - 1] !== '*');
  return (name) => {
    const text = [...name];
    let g = 0;
    let t = 0;
    let star = -1; // the glob index of the last `*` seen
    let starText = 0; // where in the text that `*`'s run currently ends
    while (t < text.length) {
      if (glob[g] === '*') {
        star = g++;
        starText = t;
      } else if (g < glob.length && (glob[g] === '?' || glob[g] === text[t])) {
        g++;
        t++;
      } else if (star >= 0) {
        // Let the last `*` take one more character and try the rest again from there.
        g = star + 1;
        t = ++starText;
      } else {
        return false;
      }
    }
    while (glob[g] === '*') g++;
    return g === glob.length;
  };
}
