//! Reading a model's `config.json` (torchvision-style sizes we define, timm's keyword
//! arguments, Hugging Face's `config.json`) with errors that name the model and key.

use serde_json::Value;
use std::fmt;

/// A config that is not valid JSON or has a key of the wrong type.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for lolcore::Error {
    fn from(e: ConfigError) -> Self {
        lolcore::Error::msg(e.0)
    }
}

pub(crate) struct Config {
    pub(crate) json: Value,
    model: &'static str,
}

impl Config {
    pub(crate) fn parse(text: &str, model: &'static str) -> Result<Config, ConfigError> {
        let json: Value =
            serde_json::from_str(text).map_err(|e| ConfigError(format!("{model} config: not valid JSON: {e}")))?;
        if !json.is_object() {
            return Err(ConfigError(format!("{model} config: expected a JSON object")));
        }
        Ok(Config { json, model })
    }
    pub(crate) fn error(&self, msg: String) -> ConfigError {
        ConfigError(format!("{} config: {msg}", self.model))
    }
    fn get(&self, key: &str) -> Option<&Value> {
        self.json.get(key).filter(|v| !v.is_null())
    }
    pub(crate) fn usize_or(&self, key: &str, default: usize) -> Result<usize, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .map(|x| x as usize)
                .ok_or_else(|| self.error(format!("{key:?} = {v}: expected a non-negative integer"))),
        }
    }
    pub(crate) fn f64_or(&self, key: &str, default: f64) -> Result<f64, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_f64().ok_or_else(|| self.error(format!("{key:?} = {v}: expected a number"))),
        }
    }
    pub(crate) fn bool_or(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| self.error(format!("{key:?} = {v}: expected true or false"))),
        }
    }
    pub(crate) fn str_or(&self, key: &str, default: &str) -> Result<String, ConfigError> {
        match self.get(key) {
            None => Ok(default.to_string()),
            Some(v) => {
                v.as_str().map(str::to_string).ok_or_else(|| self.error(format!("{key:?} = {v}: expected a string")))
            }
        }
    }
    pub(crate) fn array4(&self, key: &str, default: [usize; 4]) -> Result<[usize; 4], ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => {
                let items: Option<Vec<usize>> =
                    v.as_array().map(|a| a.iter().filter_map(|x| x.as_u64().map(|x| x as usize)).collect());
                match items {
                    Some(a) if a.len() == 4 && v.as_array().is_some_and(|x| x.len() == 4) => {
                        Ok([a[0], a[1], a[2], a[3]])
                    }
                    _ => Err(self.error(format!("{key:?} = {v}: expected four non-negative integers"))),
                }
            }
        }
    }
}

/// Reads a config file, naming it in the error.
pub(crate) fn read_config_file(path: &std::path::Path) -> lolcore::Result<String> {
    std::fs::read_to_string(path).map_err(|e| lolcore::Error::io(path, e))
}
