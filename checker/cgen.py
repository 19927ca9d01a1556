"""C source for one model: the native engine's BFS, generated from the same Spec.

The guards and effects are the action language's expression trees (model/lang.py), printed as
C with the semantics the Python explorer gives them (checker/compile.py, checker/explore.py):

- values are Python ints: the C side computes in ``long``; a comparison or ``not`` is 0/1; an
  ``and``/``or`` used as a value (not as a condition) is Python's (the deciding operand);
- an ``Index`` read or write of an index outside the array is a model error, as in the
  reference interpreter (model/eval.py); the compiled Python reads ``state[base + index]``
  unchecked, and tests/test_compile.py shows no shipped model ever goes outside;
- an effect is a simultaneous assignment: every value and target index is computed from the
  old state before any slot is written, then the slots are written in the effect's order;
- a value outside 0..255 is a model error (Python: bytes() raises ValueError); so is a value
  inside 0..255 but outside the variable's domain, which the packed state cannot hold (Python
  would store it: docs/native.md);
- successors are tried in the Python explorer's order (per pc slot, by its value, then the
  actions without a pc test), so BFS numbers states, parents and first violations identically.

The driver (C text below, ``_DRIVER``) is fixed; only the model part is generated.  Symmetry
is the least image over the group of checker/symmetry.py (its ``image_table``), compared slot
by slot like Python's ``below`` so that most images are never built.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from checker.compile import dispatch_groups
from checker.symmetry import Symmetry
from model.lang import Action, Const, Expr, Index, Op, Ref, Spec, Var, conjuncts
from properties.base import INVARIANT, Property

# Error kinds the C side reports (checker/native.py words them).
ERR_INDEX, ERR_BYTE, ERR_DOMAIN, ERR_SHIFT = 0, 1, 2, 3
# Context codes for errors outside an action: halt, finished, property k's invariant/premise.
CTX_HALT, CTX_FINISHED, CTX_PROP = -1, -2, -100

_BOOL_OPS = {"==", "!=", "<", "<=", "not"}
_ARITH = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", "+": "+", "-": "-", "&": "&", "|": "|"}


def _is_bool(e: Expr) -> bool:
    """Whether e's Python value is always 0 or 1 (so C's && and || give the same value)."""
    if isinstance(e, Const):
        return e.value in (0, 1)
    if isinstance(e, Op):
        if e.op in _BOOL_OPS:
            return True
        if e.op in ("and", "or"):
            return all(_is_bool(a) for a in e.args)
        if e.op == "ite":
            return _is_bool(e.args[1]) and _is_bool(e.args[2])
    return False


class CExpr:
    """Prints expressions as C over the unpacked state ``s`` (uint8_t[NV])."""

    def __init__(self, ctx: int) -> None:
        self.ctx = ctx  # the action index (or CTX_*) named by a runtime error
        self.tmp = 0

    def cond(self, e: Expr) -> str:
        """e in a test: only its truth matters."""
        if isinstance(e, Op) and e.op in ("and", "or"):
            j = " && " if e.op == "and" else " || "
            return "(" + j.join(self.cond(a) for a in e.args) + ")"
        if isinstance(e, Op) and e.op == "not":
            return f"(!{self.cond(e.args[0])})"
        return self.value(e)

    def value(self, e: Expr) -> str:
        if isinstance(e, Const):
            return f"{e.value}L"
        if isinstance(e, Ref):
            return f"((long)s[{e.var.slot}])"
        if isinstance(e, Index):
            return (f"rd(s, {e.array.base}L, {len(e.array)}L, {self.value(e.index)}, "
                    f"{self.ctx})")
        assert isinstance(e, Op), e
        a = e.args
        if e.op == "not":
            return f"((long)!{self.cond(a[0])})"
        if e.op == "ite":
            return f"({self.cond(a[0])} ? {self.value(a[1])} : {self.value(a[2])})"
        if e.op in ("and", "or"):
            if _is_bool(e):
                return f"((long){self.cond(e)})"
            return self._py_andor(e)
        if e.op == ">>":
            return f"shr({self.value(a[0])}, {self.value(a[1])}, {self.ctx})"
        if e.op == "<<":
            return f"shl({self.value(a[0])}, {self.value(a[1])}, {self.ctx})"
        if e.op in ("==", "!=", "<", "<="):
            return f"((long)({self.value(a[0])} {_ARITH[e.op]} {self.value(a[1])}))"
        return f"({self.value(a[0])} {_ARITH[e.op]} {self.value(a[1])})"

    def _py_andor(self, e: Op) -> str:
        # Python's `x and y` is x if x is false, else y; `x or y` is x if x is true, else y.
        t = f"_v{self.tmp}"
        self.tmp += 1
        test = f"!{t}" if e.op == "or" else t
        body = f"long {t} = {self.value(e.args[0])};"
        close = ""
        for x in e.args[1:]:
            body += f" if ({test}) {{ {t} = {self.value(x)};"
            close += " }"
        return f"({{ {body}{close} {t}; }})"


def _key_conjunct(c: Expr, key: tuple[int, int] | None) -> bool:
    return (key is not None and isinstance(c, Op) and c.op == "==" and isinstance(c.args[0], Ref)
            and c.args[0].var.slot == key[0] and isinstance(c.args[1], Const)
            and c.args[1].value == key[1])


def _comment(text: str) -> str:
    return text.replace("*/", "* /")


def _action(a: Action, key: tuple[int, int] | None, spec: Spec) -> list[str]:
    """One action: test the guard (minus the pc test the dispatch did), compute every new
    value from the old state, then write them into a copy and hand it to emit()."""
    w = CExpr(a.index)
    parts = [w.cond(c) for c in conjuncts(a.guard) if not _key_conjunct(c, key)]
    out = [f"  /* {_comment(f'{a.name} [{a.source}]')} */",
           f"  if ({' && '.join(parts) or '1'}) {{"]
    stores = []
    for k, (tgt, val) in enumerate(a.effect):
        out.append(f"    long v{k} = {w.value(val)};")
        if isinstance(tgt, Var):
            d = tgt.domain
            stores.append(f"    st(t, {tgt.slot}, v{k}, {d.lo}, {d.hi}, {a.index});")
        else:
            out.append(f"    long i{k} = slot_of({tgt.array.base}L, {len(tgt.array)}L, "
                       f"{w.value(tgt.index)}, {a.index});")
            stores.append(f"    st(t, i{k}, v{k}, DLO[i{k}], DHI[i{k}], {a.index});")
    out.append("    memcpy(t, s, NV);")
    out += stores
    out.append(f"    emit({a.index}, t);")
    out.append("  }")
    return out


@dataclass
class Layout:
    """Where each variable sits in the packed state: bit offset, width, lowest value."""

    offset: list[int]
    width: list[int]
    lo: list[int]
    bits: int

    @property
    def nbytes(self) -> int:
        return max(1, (self.bits + 7) // 8)

    @property
    def nwords(self) -> int:
        return max(1, (self.bits + 63) // 64)


def layout(spec: Spec) -> Layout:
    off, width, lo = [], [], []
    pos = 0
    for v in spec.vars:
        w = (v.domain.hi - v.domain.lo).bit_length()
        off.append(pos)
        width.append(w)
        lo.append(v.domain.lo)
        pos += w
    return Layout(off, width, lo, pos)


def _pack_code(lay: Layout) -> list[str]:
    pack = ["static inline void pack(const uint8_t *s, uint64_t *W) {",
            "  memset(W, 0, sizeof(uint64_t) * NWORDS);"]
    unpack = ["static inline void unpack(const uint64_t *W, uint8_t *s) {"]
    for slot, (o, w, lo) in enumerate(zip(lay.offset, lay.width, lay.lo, strict=True)):
        if w == 0:
            unpack.append(f"  s[{slot}] = {lo};")
            continue
        k, b = divmod(o, 64)
        mask = (1 << w) - 1
        val = f"(uint64_t)(s[{slot}] - {lo})" if lo else f"(uint64_t)s[{slot}]"
        pack.append(f"  W[{k}] |= {val} << {b};")
        get = f"(W[{k}] >> {b})"
        if b + w > 64:
            pack.append(f"  W[{k + 1}] |= {val} >> {64 - b};")
            get = f"((W[{k}] >> {b}) | (W[{k + 1}] << {64 - b}))"
        unpack.append(f"  s[{slot}] = (uint8_t)(({get} & {mask}u) + {lo});")
    return pack + ["}"] + unpack + ["}"]


def _symmetry_code(sym: Symmetry | None) -> list[str]:
    """canon(s): s becomes the least image of s over the group (in place)."""
    if sym is None or sym.trivial:
        return ["#define SYMMETRY 0", "static inline void canon(uint8_t *s) { (void)s; }"]
    out = ["#define SYMMETRY 1"]
    maps: dict[tuple[int, ...], str] = {}
    bodies: list[str] = []
    for k, p in enumerate(sym.perms[1:], start=1):
        table = sym.image_table(p)
        elems = []
        for src, _kind, vm in table:
            if vm is None:
                elems.append(f"s[{src}]")
            else:
                if vm not in maps:
                    maps[vm] = f"M{len(maps)}"
                elems.append(f"{maps[vm]}[s[{src}]]")
        # Compare the image with the best so far slot by slot; build it only when less.
        bodies.append(f"  /* permutation {k}: {p} */")
        bodies.append("  {")
        bodies.append("    int d = 0;")
        for dst, e in enumerate(elems):
            bodies.append(f"    if ((d = (int){e} - (int)best[{dst}])) goto decide{k};")
        bodies.append(f"  decide{k}:")
        bodies.append("    if (d < 0) {")
        for dst, e in enumerate(elems):
            bodies.append(f"      img[{dst}] = {e};")
        bodies.append("      memcpy(best, img, NV);")
        bodies.append("    }")
        bodies.append("  }")
    for vm, name in maps.items():
        out.append(f"static const uint8_t {name}[256] = {{{', '.join(map(str, vm))}}};")
    out.append("static inline void canon(uint8_t *s) {")
    out.append("  uint8_t best[NV], img[NV];")
    out.append("  memcpy(best, s, NV);")
    out += bodies
    out.append("  memcpy(s, best, NV);")
    out.append("}")
    return out


def generate(spec: Spec, props: list[Property], finished: Expr,
             symmetry: Symmetry | None = None) -> str:
    """The whole C program for `spec` with its invariants (and premises), halt and finished."""
    lay = layout(spec)
    invariants = [p for p in props if p.kind == INVARIANT and p.expr is not None]
    out = [f"/* Native engine for model {spec.name}: generated by umcg-check checker/cgen.py from",
           "   the Spec's expression trees; do not edit.  docs/native.md */",
           f"#define NV {len(spec.vars)}", f"#define NACT {len(spec.actions)}",
           f"#define NPROP {len(invariants)}", f"#define NBYTES {lay.nbytes}",
           f"#define NWORDS {lay.nwords}", f"#define STATE_BITS {lay.bits}",
           _HEADER]
    out.append("static const uint8_t INIT[NV] = {"
               + ", ".join(str(v.init) for v in spec.vars) + "};")
    out.append("static const int DLO[NV] = {" + ", ".join(str(v.domain.lo) for v in spec.vars)
               + "};")
    out.append("static const int DHI[NV] = {" + ", ".join(str(v.domain.hi) for v in spec.vars)
               + "};")
    out += _pack_code(lay)
    out += _symmetry_code(symmetry)
    out.append("static void emit(int aid, uint8_t *t);")

    halt, fin = CExpr(CTX_HALT), CExpr(CTX_FINISHED)
    out.append(f"static inline int is_halt(const uint8_t *s) {{ return {halt.cond(spec.halt)} "
               "!= 0; }")
    out.append(f"static inline int is_finished(const uint8_t *s) {{ return {fin.cond(finished)}"
               " != 0; }")
    out.append("static int inv(int p, const uint8_t *s) {")
    out.append("  switch (p) {")
    for k, p in enumerate(invariants):
        out.append(f"  case {k}: return {CExpr(CTX_PROP - k).cond(p.expr)} != 0;"  # type: ignore[arg-type]
                   f" /* {_comment(p.name)} */")
    out.append("  }\n  return 1;\n}")
    out.append("static int premise(int p, const uint8_t *s) {")
    out.append("  switch (p) {")
    for k, p in enumerate(invariants):
        e = p.premise if p.premise is not None else None
        out.append(f"  case {k}: return "
                   + (f"{CExpr(CTX_PROP - k).cond(e)} != 0;" if e is not None else "1;"))
    out.append("  }\n  return 1;\n}")
    out.append("static const int HAS_PREMISE[NPROP + 1] = {"
               + "".join(f"{int(p.premise is not None)}, " for p in invariants) + "0};")

    # Successors, dispatched on pc slots as checker/compile.py does (same order).
    by_key, loose = dispatch_groups(spec)
    by_slot: dict[int, list[int]] = defaultdict(list)
    for (slot, val), acts in by_key:
        by_slot[slot].append(val)
        out.append(f"static void f_{slot}_{val}(const uint8_t *s, uint8_t *t) {{")
        for a in acts:
            out += _action(a, (slot, val), spec)
        out.append("}")
    out.append("static void f_loose(const uint8_t *s, uint8_t *t) {")
    out.append("  (void)s; (void)t;")
    for a in loose:
        out += _action(a, None, spec)
    out.append("}")
    out.append("static void successors(const uint8_t *s) {")
    out.append("  uint8_t t[NV];")
    for slot, vals in by_slot.items():
        out.append(f"  switch (s[{slot}]) {{")
        for v in vals:
            out.append(f"  case {v}: f_{slot}_{v}(s, t); break;")
        out.append("  }")
    out.append("  f_loose(s, t);")
    out.append("}")
    out.append(_DRIVER)
    return "\n".join(out) + "\n"


_HEADER = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

static void model_error(int kind, int ctx, long value, long where)
    __attribute__((noreturn, cold));
static void model_error(int kind, int ctx, long value, long where) {
  fflush(stderr);
  printf("{\"model_error\": {\"kind\": %d, \"ctx\": %d, \"value\": %ld, \"where\": %ld}}\n",
         kind, ctx, value, where);
  fflush(stdout);
  exit(5);
}
/* Element i of the array at slot base with n elements; any other index is a model error, as in
   the reference interpreter (model/eval.py), not a read of a neighbouring variable. */
static inline long slot_of(long base, long n, long i, int ctx) {
  if (i < 0 || i >= n) model_error(0, ctx, i, base);
  return base + i;
}
static inline long rd(const uint8_t *s, long base, long n, long i, int ctx) {
  return s[slot_of(base, n, i, ctx)];
}
static inline long shr(long a, long b, int ctx) {
  if (b < 0) model_error(3, ctx, b, -1);
  return b > 62 ? (a < 0 ? -1 : 0) : a >> b;
}
static inline long shl(long a, long b, int ctx) {
  if (b < 0) model_error(3, ctx, b, -1);
  if (b > 40) model_error(1, ctx, a, -1);  /* far beyond 0..255 whatever is done with it */
  return a << b;
}
static inline void st(uint8_t *t, long slot, long v, int lo, int hi, int ctx) {
  if (v < 0 || v > 255) model_error(1, ctx, v, slot);
  if (v < lo || v > hi) model_error(2, ctx, v, slot);
  t[slot] = (uint8_t)v;
}
"""

_DRIVER = r"""
/* ------------------------------------------------------------------ the fixed driver */
static uint8_t *arena;          /* packed states, NBYTES each: the BFS queue */
static uint32_t *parent;        /* BFS parent of each state */
static uint16_t *via;           /* action that reached it */
static uint64_t *table;         /* open addressing: hash tag << 32 | (index + 1), 0 empty */
static uint64_t cap, tcap, n, tcount;
static uint64_t max_memory, peak_bytes;
static uint64_t cov[NACT];
static uint64_t transitions;
static int64_t viol[NPROP + 1], first_term[4], term_count[4];
static int premise_seen[NPROP + 1], pending_premises;
/* The state being expanded and what its successors were. */
static uint8_t cur[NV];
static uint64_t cur_index, n_out;
static int all_self;

static double now(void) {
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static uint64_t mem_bytes(uint64_t c, uint64_t tc) {
  return c * (NBYTES + sizeof(uint32_t) + sizeof(uint16_t)) + tc * sizeof(uint64_t);
}
static inline uint64_t hash_words(const uint64_t *W) {
  uint64_t h = 0x9E3779B97F4A7C15ull * (NWORDS + 1);
  for (int k = 0; k < NWORDS; k++) {
    h ^= W[k] * 0xBF58476D1CE4E5B9ull;
    h = (h << 31 | h >> 33) * 0x94D049BB133111EBull;
  }
  h ^= h >> 33; h *= 0xFF51AFD7ED558CCDull; h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull; h ^= h >> 33;
  return h;
}
static inline void load_packed(uint64_t i, uint64_t *W) {
  W[NWORDS - 1] = 0;
  memcpy(W, arena + i * NBYTES, NBYTES);
}
static void table_put(uint64_t h, uint64_t i) {
  uint64_t m = tcap - 1, pos = h & m;
  while (table[pos]) pos = (pos + 1) & m;
  table[pos] = (h >> 32) << 32 | (i + 1);
}
static int grow_table(void) {
  uint64_t nt = tcap * 2;
  if (max_memory && mem_bytes(cap, nt) + tcap * sizeof(uint64_t) > max_memory) return 0;
  uint64_t *old = table, oldcap = tcap;
  table = calloc(nt, sizeof(uint64_t));
  if (!table) { table = old; return 0; }
  tcap = nt;
  if (mem_bytes(cap, tcap) + oldcap * sizeof(uint64_t) > peak_bytes)
    peak_bytes = mem_bytes(cap, tcap) + oldcap * sizeof(uint64_t);
  /* Re-insert in blocks, each block's slots prefetched first (random writes: cache misses). */
  uint64_t W[NWORDS], hs[32];
  for (uint64_t i0 = 0; i0 < n; i0 += 32) {
    uint64_t b = n - i0 < 32 ? n - i0 : 32;
    for (uint64_t k = 0; k < b; k++) {
      load_packed(i0 + k, W);
      hs[k] = hash_words(W);
      __builtin_prefetch(&table[hs[k] & (tcap - 1)], 1);
    }
    for (uint64_t k = 0; k < b; k++) table_put(hs[k], i0 + k);
  }
  free(old);
  return 1;
}
static int grow_arena(void) {
  uint64_t nc = cap + cap / 2;
  if (nc > 0xFFFFFFF0ull) nc = 0xFFFFFFF0ull;
  if (nc <= cap) return 0;
  if (max_memory && mem_bytes(nc, tcap) > max_memory) return 0;
  uint8_t *a = realloc(arena, nc * NBYTES);
  if (!a) return 0;
  arena = a;
  uint32_t *p = realloc(parent, nc * sizeof(uint32_t));
  if (!p) return 0;
  parent = p;
  uint16_t *v = realloc(via, nc * sizeof(uint16_t));
  if (!v) return 0;
  via = v;
  cap = nc;
  if (mem_bytes(cap, tcap) > peak_bytes) peak_bytes = mem_bytes(cap, tcap);
  return 1;
}
static void check_new(uint64_t j, const uint8_t *t) {
  for (int p = 0; p < NPROP; p++)
    if (viol[p] < 0 && !inv(p, t)) viol[p] = (int64_t)j;
  if (pending_premises) {
    pending_premises = 0;
    for (int p = 0; p < NPROP; p++) {
      if (!HAS_PREMISE[p] || premise_seen[p]) continue;
      if (premise(p, t)) premise_seen[p] = 1; else pending_premises = 1;
    }
  }
}
/* One successor of cur (already a copy): canonicalize, count, pack and hash it, and prefetch
   its hash-table slot; store_successors() then looks them all up in order.  The table probe
   is a cache miss per successor (most of the time in a large run): issuing all of one
   state's misses before waiting on the first overlaps them. */
static struct { uint64_t W[NWORDS]; uint64_t h; int aid; uint8_t t[NV]; } outbuf[NACT];
static void emit(int aid, uint8_t *t) {
  cov[aid]++;
  canon(t);
  if (all_self && memcmp(t, cur, NV) != 0) all_self = 0;
  uint64_t *W = outbuf[n_out].W;
  pack(t, W);
  uint64_t h = hash_words(W);
  __builtin_prefetch(&table[h & (tcap - 1)]);
  outbuf[n_out].h = h;
  outbuf[n_out].aid = aid;
  memcpy(outbuf[n_out].t, t, NV);
  n_out++;
}
static void store_successors(void) {
  for (uint64_t k = 0; k < n_out; k++) {
    const uint64_t *W = outbuf[k].W;
    uint64_t h = outbuf[k].h, m = tcap - 1, pos = h & m, tag = h >> 32;
    int seen = 0;
    for (;;) {
      uint64_t e = table[pos];
      if (!e) break;
      if ((e >> 32) == tag
          && !memcmp(arena + ((e & 0xFFFFFFFFull) - 1) * NBYTES, W, NBYTES)) {
        seen = 1;
        break;
      }
      pos = (pos + 1) & m;
    }
    if (seen) continue;
    uint64_t j = n++;
    table[pos] = tag << 32 | (j + 1);
    tcount++;
    memcpy(arena + j * NBYTES, W, NBYTES);
    parent[j] = (uint32_t)cur_index;
    via[j] = (uint16_t)outbuf[k].aid;
    check_new(j, outbuf[k].t);
  }
}

enum { HALTED, FINISHED, DEADLOCKED, SPINNING };
static const char *KIND[4] = {"halted", "finished", "deadlock", "spin"};

static void print_path(int64_t i) {
  /* the action indices from the initial state to state i */
  uint64_t len = 0;
  for (int64_t k = i; k > 0; k = parent[k]) len++;
  uint16_t *acts = malloc((len + 1) * sizeof(uint16_t));
  uint64_t q = len;
  for (int64_t k = i; k > 0; k = parent[k]) acts[--q] = via[k];
  printf("\"%lld\": [", (long long)i);
  for (uint64_t k = 0; k < len; k++) printf(k ? ", %u" : "%u", acts[k]);
  printf("]");
  free(acts);
}

int main(int argc, char **argv) {
  uint64_t max_states = argc > 1 ? strtoull(argv[1], 0, 10) : 0;
  double max_seconds = argc > 2 ? atof(argv[2]) : 0;
  max_memory = argc > 3 ? strtoull(argv[3], 0, 10) : 0;
  int progress = argc > 4 ? atoi(argv[4]) : 0;
  if (!max_states) max_states = (uint64_t)1 << 62;
  cap = 1 << 16; tcap = 1 << 17;
  arena = malloc(cap * NBYTES); parent = malloc(cap * 4); via = malloc(cap * 2);
  table = calloc(tcap, sizeof(uint64_t));
  peak_bytes = mem_bytes(cap, tcap);
  for (int p = 0; p <= NPROP; p++) { viol[p] = -1; premise_seen[p] = 0; }
  for (int k = 0; k < 4; k++) { first_term[k] = -1; term_count[k] = 0; }
  pending_premises = 0;
  for (int p = 0; p < NPROP; p++) if (HAS_PREMISE[p]) pending_premises = 1;

  uint8_t s0[NV];
  memcpy(s0, INIT, NV);
  canon(s0);
  {
    uint64_t W[NWORDS];
    pack(s0, W);
    memcpy(arena, W, NBYTES);
    table_put(hash_words(W), 0);
    parent[0] = 0; via[0] = 0;
    n = 1; tcount = 1;
    check_new(0, s0);
  }
  double t0 = now(), last = t0;
  uint64_t i = 0, layer_end = 1, depth = 0, counted = 1;
  uint64_t *layers = malloc(sizeof(uint64_t) * 1024), nlayers = 1, layers_cap = 1024;
  layers[0] = 1;
  const char *stopped = 0;
  while (i < n) {
    if (i == layer_end) {
      depth++;
      layer_end = n;
      if (nlayers == layers_cap) layers = realloc(layers, sizeof(uint64_t) * (layers_cap *= 2));
      layers[nlayers++] = layer_end - counted;
      counted = layer_end;
    }
    /* Room for every successor of this state before expanding it. */
    if ((n + NACT > cap && !grow_arena()) ||
        ((tcount + NACT) * 10 > tcap * 7 && !grow_table())) {
      stopped = "max_memory";
      break;
    }
    uint64_t W[NWORDS];
    load_packed(i, W);
    unpack(W, cur);
    cur_index = i; n_out = 0; all_self = 1;
    if (!is_halt(cur)) successors(cur);
    store_successors();
    if (n_out == 0 || all_self) {
      int kind = n_out ? SPINNING : is_halt(cur) ? HALTED : is_finished(cur) ? FINISHED
                 : DEADLOCKED;
      term_count[kind]++;
      if (first_term[kind] < 0) first_term[kind] = (int64_t)i;
    }
    transitions += n_out;
    i++;
    if (!(i & 0xFFF)) {
      double t = now();
      if (max_seconds > 0 && t - t0 > max_seconds) { stopped = "max_seconds"; break; }
      if (progress && t - last >= 2.0) {
        last = t;
        fprintf(stderr, "  progress: %llu states, %llu transitions, queue %llu, depth %llu, "
                "%.0f states/s, %.0f MiB (native)\n", (unsigned long long)n,
                (unsigned long long)transitions, (unsigned long long)(n - i),
                (unsigned long long)depth, n / (t - t0), mem_bytes(cap, tcap) / 1048576.0);
        fflush(stderr);
      }
    }
    if (n > max_states) { stopped = "max_states"; break; }
  }
  double secs = now() - t0;
  struct rusage ru; getrusage(RUSAGE_SELF, &ru);
  printf("{\"states\": %llu, \"transitions\": %llu, \"depth\": %llu, \"seconds\": %.6f,\n",
         (unsigned long long)n, (unsigned long long)transitions, (unsigned long long)depth,
         secs);
  printf(" \"stopped_by\": %s%s%s, \"state_bytes\": %d, \"state_bits\": %d,\n",
         stopped ? "\"" : "", stopped ? stopped : "null", stopped ? "\"" : "", NBYTES,
         STATE_BITS);
  printf(" \"table_bytes\": %llu, \"peak_table_bytes\": %llu, \"max_rss_kib\": %ld,\n",
         (unsigned long long)mem_bytes(cap, tcap), (unsigned long long)peak_bytes,
         ru.ru_maxrss);
  printf(" \"layers\": [");
  for (uint64_t k = 0; k < nlayers; k++) printf(k ? ", %llu" : "%llu",
                                                  (unsigned long long)layers[k]);
  printf("],\n \"coverage\": [");
  for (int k = 0; k < NACT; k++) printf(k ? ", %llu" : "%llu", (unsigned long long)cov[k]);
  printf("],\n \"violations\": [");
  for (int p = 0; p < NPROP; p++) printf(p ? ", %lld" : "%lld", (long long)viol[p]);
  printf("],\n \"premise_seen\": [");
  for (int p = 0; p < NPROP; p++) printf(p ? ", %d" : "%d", premise_seen[p]);
  printf("],\n \"terminal\": {");
  int first = 1;
  for (int k = 0; k < 4; k++) if (term_count[k]) {
    printf("%s\"%s\": [%llu, %lld]", first ? "" : ", ", KIND[k],
           (unsigned long long)term_count[k], (long long)first_term[k]);
    first = 0;
  }
  printf("},\n \"paths\": {");
  first = 1;
  for (int p = 0; p <= NPROP + 4; p++) {
    int64_t at = p < NPROP ? viol[p] : p == NPROP + DEADLOCKED ? first_term[DEADLOCKED]
                 : p == NPROP + SPINNING ? first_term[SPINNING] : -1;
    if (at < 0) continue;
    if (!first) printf(", ");
    print_path(at);
    first = 0;
  }
  printf("}}\n");
  return 0;
}
"""
