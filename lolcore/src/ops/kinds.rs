//! The primitive op kinds every backend implements. Tensor-level ops (and their
//! backward formulas) are built from these.

/// Elementwise functions of one float tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    Relu,
    /// Exact GELU, `x·Φ(x)` (PyTorch's default).
    Gelu,
    /// d/dx GELU(x) = Φ(x) + x·φ(x).
    GeluDeriv,
    Sqr,
    Recip,
    Sign,
    /// 1 where x > 0, else 0 (ReLU's derivative).
    Step,
    Erf,
    Floor,
    Ceil,
    Round,
    /// `x·mul + add`.
    Affine {
        mul: f64,
        add: f64,
    },
    Powf(f64),
    LeakyRelu(f64),
    /// 1 where x > 0, else the slope.
    LeakyReluDeriv(f64),
    Clamp(f64, f64),
    /// 1 where min ≤ x ≤ max, else 0 (clamp's derivative).
    ClampMask(f64, f64),
}

impl UnaryOp {
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Abs => "abs",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Sigmoid => "sigmoid",
            UnaryOp::Relu => "relu",
            UnaryOp::Gelu => "gelu",
            UnaryOp::GeluDeriv => "gelu_deriv",
            UnaryOp::Sqr => "sqr",
            UnaryOp::Recip => "recip",
            UnaryOp::Sign => "sign",
            UnaryOp::Step => "step",
            UnaryOp::Erf => "erf",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Round => "round",
            UnaryOp::Affine { .. } => "affine",
            UnaryOp::Powf(_) => "powf",
            UnaryOp::LeakyRelu(_) => "leaky_relu",
            UnaryOp::LeakyReluDeriv(_) => "leaky_relu_deriv",
            UnaryOp::Clamp(..) => "clamp",
            UnaryOp::ClampMask(..) => "clamp_mask",
        }
    }
}

/// Elementwise functions of two tensors, with broadcasting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
    Pow,
    /// `lhs` where `rhs > 0`, else 0: ReLU's backward in one pass.
    MaskPositive,
}

impl BinaryOp {
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
            BinaryOp::Pow => "pow",
            BinaryOp::MaskPositive => "mask_positive",
        }
    }
}

/// Comparisons; the result is a u8 mask (1 true, 0 false).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn name(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
        }
    }
}

/// Reductions over a set of dims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Max,
    Min,
}

/// Index-valued reductions over one dim (result u32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgReduceOp {
    ArgMax,
    ArgMin,
}
