//! `summary()`: Keras's layer table (name and type, output shape, parameter count) and
//! the totals.

use super::Model;
use lolcore::nn::{short_type_name, trace, Forward, Module, TensorKind};
use lolcore::rng::{with_generator, Generator};
use lolcore::{no_grad, Result, Tensor};

/// `TwoLayerNet` → `two_layer_net` (Keras names a model after its class this way).
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.2} MB", n as f64 / (1 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.2} KB", n as f64 / 1024.0),
        n => format!("{n}.00 B"),
    }
}

fn shape(s: &[usize]) -> String {
    let dims: Vec<String> =
        std::iter::once("None".to_string()).chain(s.iter().skip(1).map(|d| d.to_string())).collect();
    format!("({})", dims.join(", "))
}

impl<M: Module + Forward> Model<M> {
    /// The layer table as text.
    pub fn summary_string(&self) -> String {
        let rows = self.summary_rows();
        let (mut trainable, mut trainable_bytes, mut fixed, mut fixed_bytes) = (0, 0, 0, 0);
        // A tensor shared by two layers (tied weights) counts once, as in Keras.
        let mut seen = std::collections::HashSet::new();
        self.module.visit("", &mut |_, t, k| {
            if !seen.insert(t.id()) {
                return;
            }
            match k {
                TensorKind::Parameter => {
                    trainable += t.numel();
                    trainable_bytes += t.numel() * t.dtype().size_in_bytes();
                }
                TensorKind::Buffer if t.dtype().is_float() => {
                    fixed += t.numel();
                    fixed_bytes += t.numel() * t.dtype().size_in_bytes();
                }
                TensorKind::Buffer => {}
            }
        });
        let w = [34, 24, 15];
        let line = |l: char, m: char, r: char| {
            format!("{l}{}{m}{}{m}{}{r}\n", "─".repeat(w[0]), "─".repeat(w[1]), "─".repeat(w[2]))
        };
        let mut out = format!("Model: \"{}\"\n", snake_case(&short_type_name::<M>()));
        out += &line('┌', '┬', '┐');
        out += &format!(
            "│ {:<a$}│ {:<b$}│ {:>c$} │\n",
            "Layer (type)",
            "Output Shape",
            "Param #",
            a = w[0] - 1,
            b = w[1] - 1,
            c = w[2] - 2
        );
        out += &line('├', '┼', '┤');
        for (name, out_shape, params) in &rows {
            out += &format!(
                "│ {:<a$}│ {:<b$}│ {:>c$} │\n",
                name,
                out_shape,
                params,
                a = w[0] - 1,
                b = w[1] - 1,
                c = w[2] - 2
            );
        }
        out += &line('└', '┴', '┘');
        out += &format!(" Total params: {} ({})\n", thousands(trainable + fixed), bytes(trainable_bytes + fixed_bytes));
        out += &format!(" Trainable params: {} ({})\n", thousands(trainable), bytes(trainable_bytes));
        out += &format!(" Non-trainable params: {} ({})\n", thousands(fixed), bytes(fixed_bytes));
        if !self.module.is_built() {
            out += " The model is not built yet: its lazy layers (\"unbuilt\") get their parameters from the\n";
            out += " first input; call build(&input_shape) or fit to create them (the counts above leave them out).\n";
        }
        out
    }

    /// Prints the layer table.
    pub fn summary(&self) {
        print!("{}", self.summary_string());
    }

    /// (name (type), output shape, parameters) per top-level layer.
    fn summary_rows(&self) -> Vec<(String, String, String)> {
        if !self.module.is_built() {
            return self.unbuilt_rows();
        }
        if let Some(input) = &self.input_shape {
            let mut dims = vec![1];
            dims.extend(input);
            // A one-sample forward records each layer's output. It must leave the model
            // as it was: layers act as in eval mode while traced, draws come from a
            // throwaway generator, and buffers are put back (for layers that keep
            // state some other way).
            let buffers = self.module.named_buffers();
            let saved: Result<Vec<(u64, Tensor)>> =
                buffers.iter().map(|(_, t)| Ok((t.version(), t.deep_copy()?))).collect();
            let traced = saved.and_then(|saved| {
                let scratch = Generator::new(0);
                let traced = with_generator(&scratch, || {
                    no_grad(|| {
                        Tensor::zeros(&dims, &self.device()).map(|x| trace::trace_layers(|| self.module.forward(&x)))
                    })
                });
                // Put back only what a layer wrote (lol's own layers write nothing here).
                for ((_, t), (version, copy)) in buffers.iter().zip(&saved) {
                    if t.version() != *version {
                        t.copy_from(copy)?;
                    }
                }
                traced
            });
            if let Ok((Ok(_), recs)) = traced {
                if !recs.is_empty() {
                    return recs
                        .into_iter()
                        .map(|r| (format!("{} ({})", r.name, r.type_name), shape(&r.output_shape), thousands(r.params)))
                        .collect();
                }
            }
        }
        // No input shape (or not a sequential): one row per top-level child.
        self.param_rows().into_iter().map(|(n, p)| (n, "?".into(), thousands(p))).collect()
    }

    /// (top-level child, parameters) for each child with parameters.
    fn param_rows(&self) -> Vec<(String, usize)> {
        let mut rows: Vec<(String, usize)> = Vec::new();
        self.module.visit("", &mut |n, t, k| {
            if k != TensorKind::Parameter {
                return;
            }
            let top = n.split('.').next().unwrap_or(n).to_string();
            match rows.last_mut() {
                Some(r) if r.0 == top => r.1 += t.numel(),
                _ => rows.push((top, t.numel())),
            }
        });
        rows
    }

    /// Before the build (no forward may run: it would build the lazy layers): the
    /// children with parameters, and each unbuilt lazy layer as `unbuilt`, in
    /// `sequential!` order when the children are numbered.
    fn unbuilt_rows(&self) -> Vec<(String, String, String)> {
        let mut rows: Vec<(String, String, String)> =
            self.param_rows().into_iter().map(|(n, p)| (n, "?".into(), thousands(p))).collect();
        self.module.visit_lazy("", &mut |n, l| {
            if !l.is_built() {
                let name = if n.is_empty() { "(root)" } else { n };
                rows.push((format!("{name} ({})", l.layer_type()), "?".into(), "unbuilt".into()));
            }
        });
        let index = |r: &(String, String, String)| r.0.split([' ', '.']).next().and_then(|i| i.parse::<usize>().ok());
        if rows.iter().all(|r| index(r).is_some()) {
            rows.sort_by_key(index);
        }
        rows
    }
}
