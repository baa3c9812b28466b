# Regenerates tests/reference/*.txt: what PyTorch prints for the seed cells
# whose notebooks used randn, replayed with the fixed inputs the C++ tests use.
# Run: python3 tests/reference/seeds.py  (needs python3-torch; tests do not).
import math, torch
torch.set_default_dtype(torch.float64)

def seed002_fixed():
    x = torch.tensor([[math.sin(i * 20 + j) for j in range(20)] for i in range(10)], requires_grad=True)
    y = torch.tensor([[math.cos(i * 5 + j) for j in range(5)] for i in range(10)], requires_grad=True)
    w = torch.tensor([[0.1 * math.sin(3 * i + j + 1) for j in range(5)] for i in range(20)], requires_grad=True)
    out = torch.mean(y - torch.matmul(x, w))
    out.backward()
    return f"{x.grad}\n{y.grad}\n{w.grad}\n"

def seed004_fixed():
    x = torch.ones(5); y = torch.zeros(3)
    w = torch.tensor([[0.5 - 0.1 * (i * 3 + j) for j in range(3)] for i in range(5)], requires_grad=True)
    b = torch.tensor([0.3, -0.2, 0.1], requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    s = str(loss) + "\n"
    loss.backward()
    return s + f"{w.grad}\n{b.grad}\n"

open("tests/reference/seed002_randn.txt", "w").write(seed002_fixed())
open("tests/reference/seed004_randn.txt", "w").write(seed004_fixed())
