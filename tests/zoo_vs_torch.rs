//! The model zoo against the libraries whose names it uses: small random-initialised
//! models built by torchvision, timm and transformers
//! (tests/fixtures/zoo/make_zoo_fixtures.py) load strictly and give the same outputs
//! to 1e-4; the full-size models have exactly the parameter names and shapes of
//! the originals (`manifests.json`).

use keras::applications::*;
use keras::lolcore::checkpoint::Checkpoint;
use keras::lolcore::safetensors::{load_module, LoadOptions};
use keras::prelude::*;
use std::path::PathBuf;

fn zoo(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zoo").join(name)
}

fn io(name: &str) -> Checkpoint {
    Checkpoint::open(zoo(&format!("{name}.io.safetensors"))).unwrap()
}

fn assert_close(got: &Tensor, want: &Tensor, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let (g, w) = (got.to_vec::<f32>().unwrap(), want.to_vec::<f32>().unwrap());
    let worst = g.iter().zip(&w).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= 1e-4, "{what}: max |lol - torch| = {worst}");
}

/// Loads `name.safetensors` strictly into `m` and compares `m(input)` with the output.
fn check_image_model<M: Module + Forward>(mut m: M, name: &str) {
    load_module(&mut m, zoo(&format!("{name}.safetensors")), &LoadOptions::strict())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    m.set_training(false);
    let io = io(name);
    let y = no_grad(|| m.forward(&io.tensor("input").unwrap())).unwrap();
    assert_close(&y, &io.tensor("output").unwrap(), name);
}

fn config(name: &str) -> String {
    std::fs::read_to_string(zoo(&format!("{name}.json"))).unwrap()
}

#[test]
fn resnets_match_torchvision() {
    check_image_model(ResNet::new(ResNetConfig::from_json(&config("resnet18_tiny")).unwrap()), "resnet18_tiny");
    check_image_model(ResNet::new(ResNetConfig::from_json(&config("resnet50_tiny")).unwrap()), "resnet50_tiny");
}

#[test]
fn vggs_match_torchvision() {
    check_image_model(Vgg::new(VggConfig::from_json(&config("vgg11_tiny")).unwrap()), "vgg11_tiny");
    check_image_model(Vgg::new(VggConfig::from_json(&config("vgg11_bn_tiny")).unwrap()), "vgg11_bn_tiny");
}

#[test]
fn mobilenet_v2_matches_torchvision() {
    check_image_model(
        MobileNetV2::new(MobileNetV2Config::from_json(&config("mobilenet_v2_tiny")).unwrap()),
        "mobilenet_v2_tiny",
    );
}

#[test]
fn vit_matches_timm() {
    check_image_model(VisionTransformer::new(VitConfig::from_json(&config("vit_tiny")).unwrap()).unwrap(), "vit_tiny");
}

#[test]
fn bert_matches_transformers_from_safetensors_and_bin() {
    let io = io("bert_tiny");
    for dir in ["bert_tiny", "bert_tiny_bin"] {
        let m = BertModel::from_pretrained(zoo(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"));
        let ids = io.tensor("input_ids").unwrap();
        let types = io.tensor("token_type_ids").unwrap();
        let mask = io.tensor("attention_mask").unwrap();
        let out = no_grad(|| m.forward_with(&ids, Some(&types), Some(&mask))).unwrap();
        // Padded positions' hidden states are computed but meaningless in both; compare all.
        assert_close(&out.last_hidden_state, &io.tensor("last_hidden_state").unwrap(), dir);
        assert_close(&out.pooler_output, &io.tensor("pooler_output").unwrap(), dir);
    }
}

#[test]
fn gpt2_matches_transformers_over_eight_cached_steps() {
    let m = Gpt2LmHeadModel::from_pretrained(zoo("gpt2_tiny")).unwrap();
    let io = io("gpt2_tiny");
    let prompt = io.tensor("prompt_ids").unwrap();
    let mut cache = KvCache::new();
    let logits = no_grad(|| m.forward_cached(&prompt, &mut cache)).unwrap();
    assert_close(&logits, &io.tensor("logits_prompt").unwrap(), "prompt logits");
    let steps = io.tensor("step_ids").unwrap().to_vec::<i64>().unwrap();
    let want = io.tensor("step_logits").unwrap();
    let mut next = {
        let last = logits.narrow(1, 4, 1).unwrap().flatten_all().unwrap();
        last.argmax(0).unwrap().to_vec::<i64>().unwrap()[0]
    };
    for (i, &id) in steps.iter().enumerate() {
        assert_eq!(next, id, "greedy token at step {i}");
        let x = Tensor::from_vec(vec![id], &[1, 1], &Device::Cpu).unwrap();
        let l = no_grad(|| m.forward_cached(&x, &mut cache)).unwrap().reshape(&[1, 100]).unwrap();
        assert_close(&l, &want.narrow(0, i, 1).unwrap(), &format!("cached step {i}"));
        next = l.argmax(1).unwrap().to_vec::<i64>().unwrap()[0];
    }
    assert_eq!(cache.len(), 5 + steps.len());
    // generate() with Greedy reproduces the same continuation.
    let p: Vec<u32> = prompt.to_vec::<i64>().unwrap().iter().map(|&v| v as u32).collect();
    let g = Generator::new(0);
    let gen = m.generate(&p, 8, Sampling::Greedy, &g).unwrap();
    assert_eq!(gen.iter().map(|&v| v as i64).collect::<Vec<_>>(), steps);
    // Sampling is reproducible from the generator and stays in the vocabulary.
    let a = m.generate(&p, 6, Sampling::TopK { k: 5, temperature: 0.8 }, &Generator::new(3)).unwrap();
    let b = m.generate(&p, 6, Sampling::TopK { k: 5, temperature: 0.8 }, &Generator::new(3)).unwrap();
    assert_eq!(a, b);
    let c = m.generate(&p, 6, Sampling::TopP { p: 0.9, temperature: 1.0 }, &Generator::new(4)).unwrap();
    assert!(a.iter().chain(&c).all(|&t| t < 100));
}

/// Full-size models: names, order and shapes equal the originals' state dicts.
#[test]
fn full_size_models_have_the_original_names_and_shapes() {
    let text = std::fs::read_to_string(zoo("manifests.json")).unwrap();
    let manifests: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ours = |m: &dyn Fn() -> Vec<(String, Vec<usize>)>, key: &str, skip: &dyn Fn(&str) -> bool| {
        let want: Vec<(String, Vec<usize>)> = manifests[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let shape = e[1].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
                (e[0].as_str().unwrap().to_string(), shape)
            })
            .filter(|(n, _)| !skip(n))
            .collect();
        assert_eq!(m(), want, "{key}");
    };
    let names = |m: &dyn Module| m.state_dict().into_iter().map(|(n, t)| (n, t.shape().to_vec())).collect::<Vec<_>>();
    let none = |_: &str| false;
    ours(&|| names(&ResNet::new(ResNetConfig::resnet18(1000))), "resnet18", &none);
    ours(&|| names(&ResNet::new(ResNetConfig::resnet34(1000))), "resnet34", &none);
    ours(&|| names(&ResNet::new(ResNetConfig::resnet50(1000))), "resnet50", &none);
    ours(&|| names(&Vgg::new(VggConfig::vgg11(false, 1000))), "vgg11", &none);
    ours(&|| names(&Vgg::new(VggConfig::vgg16(false, 1000))), "vgg16", &none);
    ours(&|| names(&MobileNetV2::new(MobileNetV2Config::standard(1000))), "mobilenet_v2", &none);
    ours(
        &|| names(&VisionTransformer::new(VitConfig::vit_base_patch16_224(1000)).unwrap()),
        "vit_base_patch16_224",
        &none,
    );
    ours(&|| names(&BertModel::new(BertConfig::base())), "bert_base", &|n: &str| n == "embeddings.position_ids");
    ours(&|| names(&Gpt2LmHeadModel::new(Gpt2Config::small()).unwrap()), "gpt2", &|n: &str| {
        n == "lm_head.weight" || n.ends_with(".attn.bias") || n.ends_with(".attn.masked_bias")
    });
}
