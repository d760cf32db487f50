//! Parameter groups, learning-rate schedules and gradient clipping.
use lolcore::optim::{
    apply_schedule, clip_grad_norm, clip_grad_value, CosineAnnealingLr, ExponentialLr, LrSchedule, Optimizer, Plateau,
    PlateauScheduler, Sgd, StepLr,
};
use lolcore::{Device, Gradients, Tensor};

fn param(v: &[f32]) -> Tensor {
    Tensor::from_vec(v.to_vec(), &[v.len()], &Device::Cpu).unwrap().requires_grad(true)
}

#[test]
fn schedules_follow_their_formulas() {
    let s = StepLr { step_size: 3, gamma: 0.1 };
    assert_eq!(
        (0..7)
            .map(|e| s.factor(e))
            .collect::<Vec<_>>()
            .iter()
            .map(|f| (f * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>(),
        vec![1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01]
    );
    let e = ExponentialLr { gamma: 0.5 };
    assert_eq!(e.factor(3), 0.125);
    let c = CosineAnnealingLr { t_max: 10, eta_min_factor: 0.0 };
    assert!((c.factor(0) - 1.0).abs() < 1e-12 && (c.factor(5) - 0.5).abs() < 1e-12 && c.factor(10).abs() < 1e-12);
    // Applied to an optimizer with two groups, each keeps its own base rate.
    let mut opt = Sgd::new(0.1);
    opt.add_param_group(vec![param(&[1.0])], None).unwrap();
    opt.add_param_group(vec![param(&[1.0])], Some(0.02)).unwrap();
    let mut initial = vec![];
    apply_schedule(&e, &mut opt, &mut initial, 2);
    assert_eq!(opt.param_groups().iter().map(|g| g.lr).collect::<Vec<_>>(), vec![0.025, 0.005]);
}

#[test]
fn reduce_on_plateau_waits_for_patience() {
    let mut opt = Sgd::new(1.0).params(vec![param(&[0.0])]);
    let mut r = PlateauScheduler::new(Plateau::Min).patience(2).factor(0.5);
    let metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8];
    let lrs: Vec<f64> = metrics
        .iter()
        .map(|&m| {
            r.step(m, &mut opt);
            opt.learning_rate()
        })
        .collect();
    assert_eq!(lrs, vec![1.0, 1.0, 1.0, 1.0, 0.5, 0.5]);
}

#[test]
fn clipping_by_norm_and_value() {
    let (a, b) = (param(&[0.0, 0.0]), param(&[0.0]));
    let mut g = Gradients::new();
    g.insert(&a, Tensor::new(&[3f32, 0.0]));
    g.insert(&b, Tensor::new(&[4f32]));
    let norm = clip_grad_norm(&mut g, &[a.clone(), b.clone()], 1.0).unwrap();
    assert!((norm - 5.0).abs() < 1e-12);
    let ga = g.get(&a).unwrap().to_vec::<f32>().unwrap();
    assert!((ga[0] - 0.6).abs() < 1e-5);
    clip_grad_value(&mut g, &[a.clone(), b.clone()], 0.7).unwrap();
    assert!(g.get(&b).unwrap().to_vec::<f32>().unwrap()[0] <= 0.7);
    assert!(clip_grad_norm(&mut g, &[a], 0.0).is_err());
}
