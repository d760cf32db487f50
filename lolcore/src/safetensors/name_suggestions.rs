//! For a failed load: which name in the file a missing parameter most likely is, and
//! the `Remap` that fixes it (a `module.` prefix from DataParallel, Keras's
//! `gamma`/`beta`, a typo).

/// Last-segment spellings of other frameworks and their PyTorch names.
const ALIASES: &[(&str, &str)] = &[
    ("gamma", "weight"),
    ("beta", "bias"),
    ("kernel", "weight"),
    ("moving_mean", "running_mean"),
    ("moving_variance", "running_var"),
    ("running_variance", "running_var"),
];

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn split_last(n: &str) -> (&str, &str) {
    match n.rfind('.') {
        Some(i) => (&n[..=i], &n[i + 1..]),
        None => ("", n),
    }
}

/// One line per missing name that has a likely counterpart among the unexpected
/// ones. Hints that are the same remap for many names are given once, with a count.
pub(crate) fn suggest(missing: &[&str], unexpected: &[&str]) -> Vec<String> {
    // Cap the quadratic scan: a report of thousands of names is read for its first lines.
    let missing = &missing[..missing.len().min(200)];
    let unexpected = &unexpected[..unexpected.len().min(2000)];
    let mut remaps: Vec<(String, usize, String)> = Vec::new();
    let mut lines = Vec::new();
    let mut add_remap = |remap: String, example: String| match remaps.iter_mut().find(|(r, _, _)| *r == remap) {
        Some(e) => e.1 += 1,
        None => remaps.push((remap, 1, example)),
    };
    for &m in missing {
        if let Some(u) =
            unexpected.iter().find(|u| u.len() > m.len() && u.ends_with(m) && u[..u.len() - m.len()].ends_with('.'))
        {
            let prefix = &u[..u.len() - m.len()];
            // Other tensors beside the model (an optimizer state): load just that subtree.
            let remap = if unexpected.iter().all(|n| n.starts_with(prefix)) {
                format!("remap(Remap::StripPrefix({prefix:?}))")
            } else {
                format!("within({:?})", prefix.trim_end_matches('.'))
            };
            add_remap(remap, format!("{m} is {u} in the file"));
            continue;
        }
        if let Some(u) =
            unexpected.iter().find(|u| m.len() > u.len() && m.ends_with(**u) && m[..m.len() - u.len()].ends_with('.'))
        {
            let prefix = &m[..m.len() - u.len()];
            add_remap(format!("remap(Remap::AddPrefix({prefix:?}))"), format!("{m} is {u} in the file"));
            continue;
        }
        let (head, last) = split_last(m);
        if let Some((alias, _)) =
            ALIASES.iter().find(|(a, p)| *p == last && unexpected.contains(&format!("{head}{a}").as_str()))
        {
            add_remap(
                format!("remap(Remap::Replace({alias:?}, {last:?}))"),
                format!("{m} is {head}{alias} in the file"),
            );
            continue;
        }
        let best = unexpected.iter().map(|u| (edit_distance(m, u), *u)).min();
        if let Some((d, u)) = best {
            if d <= (m.len() / 6).max(2) {
                lines.push(format!("did you mean: {m} ← {u} (the closest name in the file)"));
            }
        }
    }
    let mut out: Vec<String> = remaps
        .into_iter()
        .map(|(r, n, ex)| {
            let more = if n > 1 { format!(" and {} more like it", n - 1) } else { String::new() };
            format!("did you mean: {ex}{more}: load with LoadOptions::strict().{r}")
        })
        .collect();
    out.extend(lines);
    out
}

/// A note on a shape mismatch that has a common cause.
pub(crate) fn shape_hint(file: &[usize], model: &[usize]) -> &'static str {
    if file.len() == 2 && model.len() == 2 && file[0] == model[1] && file[1] == model[0] {
        " (transposed: the file stores [in, out], as Keras and GPT-2's Conv1D do)"
    } else if file.iter().product::<usize>() == model.iter().product::<usize>() {
        " (same number of values, different layout)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_prefixes_aliases_and_typos() {
        let s = suggest(&["fc.weight"], &["model_state.fc.weight", "step_count"]);
        assert!(s[0].contains("within(\"model_state\")"), "{s:?}");
        let s = suggest(&["fc.weight", "fc.bias"], &["module.fc.weight", "module.fc.bias"]);
        assert_eq!(s.len(), 1, "{s:?}");
        assert!(s[0].contains("Remap::StripPrefix(\"module.\")") && s[0].contains("1 more"), "{s:?}");
        let s = suggest(&["bn.weight", "bn.bias"], &["bn.gamma", "bn.beta"]);
        assert!(s.iter().any(|l| l.contains("Replace(\"gamma\", \"weight\")")), "{s:?}");
        assert!(s.iter().any(|l| l.contains("Replace(\"beta\", \"bias\")")), "{s:?}");
        let s = suggest(&["layer1.conv.weight"], &["layer1.cnov.weight"]);
        assert!(s[0].contains("layer1.cnov.weight"), "{s:?}");
        assert!(suggest(&["a.weight"], &["completely.different.thing"]).is_empty());
        assert_eq!(
            shape_hint(&[3, 4], &[4, 3]),
            " (transposed: the file stores [in, out], as Keras and GPT-2's Conv1D do)"
        );
    }
}
