# Regenerates tests/reference/ops_r2.hpp: PyTorch's values, gradients and
# second derivatives for the ops of the derivative table's second round, at
# fixed inputs the C++ tests use.
# Run: python3 tests/reference/ops_r2.py  (needs python3-torch; tests do not).
import math, torch
torch.set_default_dtype(torch.float64)

out = []
def arr(v):
    return "{" + ", ".join(repr(float(x)) for x in v) + "}"

# name in metagrad, torch function, three inputs inside the domain
unary = [
    ("log1p", torch.log1p, [-0.5, 0.3, 2.0]), ("expm1", torch.expm1, [-1.0, 1e-3, 1.5]),
    ("atan", torch.atan, [-2.0, 0.3, 5.0]), ("asin", torch.asin, [-0.7, 0.1, 0.9]),
    ("acos", torch.acos, [-0.7, 0.1, 0.9]), ("sinh", torch.sinh, [-2.0, 0.3, 1.5]),
    ("cosh", torch.cosh, [-2.0, 0.3, 1.5]), ("asinh", torch.asinh, [-3.0, 0.2, 4.0]),
    ("acosh", torch.acosh, [1.2, 2.0, 7.0]), ("atanh", torch.atanh, [-0.8, 0.1, 0.6]),
    ("erf", torch.erf, [-1.3, 0.2, 2.5]), ("erfc", torch.erfc, [-1.3, 0.2, 2.5]),
    ("square", torch.square, [-1.5, 0.5, 3.0]), ("rsqrt", torch.rsqrt, [0.3, 1.0, 4.5]),
    ("exp2", torch.exp2, [-2.5, 0.3, 3.7]), ("log2", torch.log2, [0.3, 1.0, 10.0]),
    ("log10", torch.log10, [0.3, 1.0, 1000.0]), ("floor", torch.floor, [-1.5, 0.3, 2.7]),
    ("ceil", torch.ceil, [-1.5, 0.3, 2.7]), ("round", torch.round, [-1.5, 0.5, 2.5]),
    ("softplus", torch.nn.functional.softplus, [-3.0, 0.5, 4.0]),
    ("lgamma", torch.lgamma, [-2.5, 0.3, 3.7]), ("digamma", torch.digamma, [-2.5, 0.3, 3.7]),
]
out.append("struct UnaryReference { const char* name; double x[3], y[3], dy[3], d2y[3]; };")
out.append("inline constexpr UnaryReference unary_reference[] = {")
for name, f, xs in unary:
    x = torch.tensor(xs, requires_grad=True)
    y = f(x)
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    g2 = torch.autograd.grad(g.sum(), x, allow_unused=True)[0] if g.requires_grad else None
    if g2 is None: g2 = torch.zeros(3)
    if name in ("lgamma", "digamma"):
        # PyTorch 1.13's CPU trigamma / polygamma are accurate to about 1e-10
        # only: these rows take their derivatives from mpmath (30 digits).
        import mpmath as mp
        mp.mp.dps = 30
        k = 0 if name == "lgamma" else 1
        g = torch.tensor([float(mp.polygamma(k, v)) for v in xs])
        g2 = torch.tensor([float(mp.polygamma(k + 1, v)) for v in xs])
    out.append(f'    {{"{name}", {arr(xs)}, {arr(y.tolist())}, {arr(g.tolist())}, {arr(g2.tolist())}}},')
out.append("};")

def emit(name, t):
    t = t.detach().reshape(-1).tolist()
    out.append(f"inline constexpr double {name}[] = {arr(t)};")

# binary: atan2, hypot at fixed points; gradients of sum
a = torch.tensor([1.0, -2.0, 0.5], requires_grad=True); b = torch.tensor([-0.5, 3.0, 2.0], requires_grad=True)
y = torch.atan2(a, b); ga, gb = torch.autograd.grad(y.sum(), (a, b))
emit("atan2_y", y); emit("atan2_ga", ga); emit("atan2_gb", gb)
y = torch.hypot(a, b); ga, gb = torch.autograd.grad(y.sum(), (a, b))
emit("hypot_y", y); emit("hypot_ga", ga); emit("hypot_gb", gb)

# minimum / maximum, with ties (the gradient is split in half)
a = torch.tensor([1.0, -2.0, 0.5, 3.0], requires_grad=True); b = torch.tensor([-0.5, 3.0, 0.5, 3.0], requires_grad=True)
for name, f in [("minimum", torch.minimum), ("maximum", torch.maximum)]:
    y = f(a, b); ga, gb = torch.autograd.grad((y * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum(), (a, b))
    emit(name + "_y", y); emit(name + "_ga", ga); emit(name + "_gb", gb)

# reductions along dims of a 2x3 input, weighted so each output matters
x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]], requires_grad=True)
w1 = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
for name, f, w in [("softmax1", lambda t: torch.softmax(t, 1), w1), ("log_softmax0", lambda t: torch.log_softmax(t, 0), w1),
                   ("logsumexp1", lambda t: torch.logsumexp(t, 1), torch.tensor([1.0, -2.0])),
                   ("logsumexp0k", lambda t: torch.logsumexp(t, 0, keepdim=True), torch.tensor([[1.0, -2.0, 0.5]])),
                   ("amax0", lambda t: torch.amax(t, 0), torch.tensor([1.0, -2.0, 0.5]))]:
    y = f(x); (g,) = torch.autograd.grad((y * w).sum(), x)
    emit(name + "_y", y); emit(name + "_g", g)

# linear algebra
A = torch.tensor([[4.0, 1.0, 0.5], [1.0, 3.0, -0.2], [0.3, -0.1, 2.0]], requires_grad=True)
B = torch.tensor([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]], requires_grad=True)
r = torch.tensor([1.0, 2.0, -1.0], requires_grad=True)
wB = torch.tensor([[1.0, -1.0], [2.0, 0.5], [0.3, 1.0]])
X = torch.linalg.solve(A, B); gA, gB = torch.autograd.grad((X * wB).sum(), (A, B))
emit("solve_X", X); emit("solve_gA", gA); emit("solve_gB", gB)
x = torch.linalg.solve(A, r); gA, gr = torch.autograd.grad((x * torch.tensor([1.0, -2.0, 0.5])).sum(), (A, r))
emit("solvev_x", x); emit("solvev_gA", gA); emit("solvev_gr", gr)
Y = torch.inverse(A); (gA,) = torch.autograd.grad((Y * torch.arange(9.0).reshape(3, 3)).sum(), A)
emit("inverse_Y", Y); emit("inverse_gA", gA)
d = torch.det(A); (gA,) = torch.autograd.grad(d, A); emit("det_y", d); emit("det_gA", gA)
d = torch.logdet(A); (gA,) = torch.autograd.grad(d, A); emit("logdet_y", d); emit("logdet_gA", gA)

# Cholesky (symmetric positive-definite), slogdet (also of a negative determinant), tril
P = torch.tensor([[4.0, 1.0, 0.5], [1.0, 3.0, -0.2], [0.5, -0.2, 2.0]], requires_grad=True)
wL = torch.tensor([[1.0, 0.0, 0.0], [2.0, -1.0, 0.0], [0.5, 3.0, 1.5]])
L = torch.linalg.cholesky(P); (gP,) = torch.autograd.grad((L * wL).sum(), P, create_graph=True)
(gP2,) = torch.autograd.grad((gP * wL).sum(), P)
emit("cholesky_L", L); emit("cholesky_gP", gP); emit("cholesky_gP2", gP2)
N = torch.tensor([[0.0, 2.0, 1.0], [1.0, 0.5, 0.0], [0.3, -1.0, 2.0]], requires_grad=True)
sgn, la = torch.linalg.slogdet(N); (gN,) = torch.autograd.grad(la, N)
emit("slogdet_sign", sgn); emit("slogdet_logabs", la); emit("slogdet_gN", gN)
y = torch.tril(A, -1); (gA,) = torch.autograd.grad((y * torch.arange(9.0).reshape(3, 3)).sum(), A)
emit("tril_y", y); emit("tril_gA", gA)

# reductions and clamp of the same 2x3 input (weighted outputs)
x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]], requires_grad=True)
for name, f, w in [("cumsum1", lambda t: torch.cumsum(t, 1), w1),
                   ("var_all", lambda t: torch.var(t), torch.tensor(1.5)),
                   ("var1", lambda t: torch.var(t, 1), torch.tensor([1.0, -2.0])),
                   ("var0kb", lambda t: torch.var(t, 0, unbiased=False, keepdim=True), torch.tensor([[1.0, -2.0, 0.5]])),
                   ("std_all", lambda t: torch.std(t), torch.tensor(1.5)),
                   ("std0", lambda t: torch.std(t, 0), torch.tensor([1.0, -2.0, 0.5])),
                   ("norm_all", lambda t: t.norm(), torch.tensor(1.5)),
                   ("norm1", lambda t: t.norm(dim=1), torch.tensor([1.0, -2.0])),
                   ("clamp", lambda t: torch.clamp(t, -0.5, 1.0), w1),
                   ("clamp_min", lambda t: torch.clamp_min(t, 0.2), w1),
                   ("clamp_max", lambda t: torch.clamp(t, max=0.5), w1)]:
    y = f(x); (g,) = torch.autograd.grad((y * w).sum(), x, create_graph=True)
    (g2,) = torch.autograd.grad((g * w1).sum(), x, allow_unused=True) if g.requires_grad else (None,)
    if g2 is None: g2 = torch.zeros(2, 3)
    emit(name + "_y", y); emit(name + "_g", g); emit(name + "_g2", g2)

# prod along a dim, with one zero in a row and two in another; prod of all with a zero
z = torch.tensor([[0.5, 0.0, 2.0], [1.5, 0.2, -0.3], [0.0, 0.0, 1.2]], requires_grad=True)
wz = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0], [0.7, -0.4, 1.1]])
for name, f, w in [("prod1", lambda t: torch.prod(t, 1), torch.tensor([1.0, -2.0, 0.5])),
                   ("prod0k", lambda t: torch.prod(t, 0, keepdim=True), torch.tensor([[1.0, -2.0, 0.5]])),
                   ("prod_all", lambda t: torch.prod(t[:2]), torch.tensor(1.5))]:
    y = f(z); (g,) = torch.autograd.grad((y * w).sum(), z, create_graph=True)
    (g2,) = torch.autograd.grad((g * wz).sum(), z, create_graph=True)
    (g3,) = torch.autograd.grad((g2 * wz).sum(), z)
    emit(name + "_y", y); emit(name + "_g", g); emit(name + "_g2", g2); emit(name + "_g3", g3)

# index ops, permutations, batched products, losses
idx = torch.tensor([2, 0, 2])
y = x.index_select(1, idx); (g,) = torch.autograd.grad((y * w1).sum(), x)
emit("index_select_y", y); emit("index_select_g", g)
gi = torch.tensor([[0, 0], [1, 2]])
y = x.gather(1, gi); (g,) = torch.autograd.grad((y * torch.tensor([[1.0, 2.0], [-1.0, 0.5]])).sum(), x)
emit("gather_y", y); emit("gather_g", g)
x3 = (torch.arange(24.0).reshape(2, 3, 4) * 0.1 - 1.0).requires_grad_()
w3 = torch.arange(24.0).reshape(4, 3, 2) * 0.5 - 3.0
y = x3.transpose(0, 2); (g,) = torch.autograd.grad((y * w3).sum(), x3)
emit("transpose02_y", y.contiguous()); emit("transpose02_g", g)
y = x3.permute(2, 0, 1); (g,) = torch.autograd.grad((y * w3.reshape(4, 2, 3)).sum(), x3)
emit("permute201_y", y.contiguous()); emit("permute201_g", g)
b3 = (torch.arange(16.0).reshape(2, 4, 2) * 0.25 - 1.5).requires_grad_()
y = torch.bmm(x3, b3); ga, gb = torch.autograd.grad((y * torch.arange(12.0).reshape(2, 3, 2)).sum(), (x3, b3))
emit("bmm_y", y); emit("bmm_ga", ga); emit("bmm_gb", gb)
m2 = torch.tensor([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0], [-2.0, 0.3]], requires_grad=True)
y = torch.matmul(x3, m2); ga, gb = torch.autograd.grad((y * torch.arange(12.0).reshape(2, 3, 2)).sum(), (x3, m2))
emit("matmul32_y", y); emit("matmul32_ga", ga); emit("matmul32_gb", gb)
t = torch.tensor([[0.0, 1.0, 2.0], [1.0, 1.0, -1.0]], requires_grad=True)
y = torch.nn.functional.l1_loss(x, t); ga, gb = torch.autograd.grad(y, (x, t))
emit("l1_loss_y", y); emit("l1_loss_ga", ga); emit("l1_loss_gb", gb)
for name, target in [("cross_entropy", torch.tensor([2, 0])), ("cross_entropy_ignore", torch.tensor([2, -100]))]:
    y = torch.nn.functional.cross_entropy(x, target); (g,) = torch.autograd.grad(y, x, create_graph=True)
    (g2,) = torch.autograd.grad((g * w1).sum(), x)
    emit(name + "_y", y); emit(name + "_g", g); emit(name + "_g2", g2)

# static full reductions of a vector with a tie at the maximum: value,
# gradient and Hessian
v = torch.tensor([0.5, -1.0, 2.0, 2.0, -0.3], requires_grad=True)
for name, f in [("s_logsumexp", torch.logsumexp), ("s_max", torch.max), ("s_amax", torch.amax), ("s_norm", torch.norm)]:
    g = (lambda t: torch.logsumexp(t, 0)) if name == "s_logsumexp" else f
    y = g(v); (gv,) = torch.autograd.grad(y, v)
    H = torch.autograd.functional.hessian(g, v.detach())
    emit(name + "_y", y); emit(name + "_g", gv); emit(name + "_H", H)

# conditions: where and clamp in one expression of two vectors (clamp's
# bounds -1 and 2 hit exactly: PyTorch passes the gradient there)
cx = torch.tensor([1.0, 3.0, -2.0, 3.0, 0.5, 2.0, -1.0], requires_grad=True)
cy = torch.tensor([0.5, -1.0, 2.0, 1.0, 0.25, 2.0, 0.7], requires_grad=True)
def cond_expr(x, y):
    return torch.where(x > y, torch.sin(x) * y, torch.exp(x * y)) + torch.clamp(x, -1.0, 2.0) * y
y = cond_expr(cx, cy); gx, gy = torch.autograd.grad(y.sum(), (cx, cy), create_graph=True)
(gxx,) = torch.autograd.grad(gx.sum(), cx)
emit("where_clamp_y", y); emit("where_clamp_gx", gx); emit("where_clamp_gy", gy); emit("where_clamp_gxx", gxx)
y = torch.where(cx > 0, torch.log(cx), torch.zeros(7)); (gx,) = torch.autograd.grad(y.sum(), cx)
emit("safe_log_y", y); emit("safe_log_g", gx)

open("tests/reference/ops_r2.hpp", "w").write(
    "// Generated by tests/reference/ops_r2.py from PyTorch " + torch.__version__ + " (float64). Do not edit.\n"
    "#pragma once\nnamespace reference {\n" + "\n".join(out) + "\n}  // namespace reference\n")
