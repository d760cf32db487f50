//! The few `tensorflow.Event` messages TensorBoard reads, derived by hand with prost.
//! Field numbers are those of tensorboard's `compat/proto/event.proto` and `summary.proto`.

/// One record of an event file: the file version, or a summary at a step.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// `"brain.Event:2"` in the first record of a file (oneof `what`).
    #[prost(string, optional, tag = "3")]
    pub file_version: Option<String>,
    /// oneof `what`.
    #[prost(message, optional, tag = "5")]
    pub summary: Option<Summary>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<Value>,
}

/// One tagged value; exactly one of `simple_value` and `histo` is set (oneof `value`).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Value {
    #[prost(string, tag = "1")]
    pub tag: String,
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
    #[prost(message, optional, tag = "5")]
    pub histo: Option<HistogramProto>,
}

/// TensorFlow's histogram: bucket `i` counts the values in
/// `[bucket_limit[i - 1], bucket_limit[i])`, the first from `min`, the last up to `max`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct HistogramProto {
    #[prost(double, tag = "1")]
    pub min: f64,
    #[prost(double, tag = "2")]
    pub max: f64,
    #[prost(double, tag = "3")]
    pub num: f64,
    #[prost(double, tag = "4")]
    pub sum: f64,
    #[prost(double, tag = "5")]
    pub sum_squares: f64,
    #[prost(double, repeated, tag = "6")]
    pub bucket_limit: Vec<f64>,
    #[prost(double, repeated, tag = "7")]
    pub bucket: Vec<f64>,
}

/// Buckets per histogram, as `tf.summary.histogram`'s default.
const BUCKETS: usize = 30;

impl HistogramProto {
    /// `BUCKETS` equal-width buckets from the smallest to the largest finite value
    /// (non-finite values are left out); one bucket when all values are equal.
    pub(crate) fn of(values: &[f64]) -> Self {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let (min, max) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if finite.is_empty() {
            return HistogramProto { bucket_limit: vec![0.0], bucket: vec![0.0], ..Default::default() };
        }
        let n = if max > min { BUCKETS } else { 1 };
        let width = (max - min) / n as f64;
        let mut bucket = vec![0.0; n];
        for &v in &finite {
            let i = if width > 0.0 { ((v - min) / width) as usize } else { 0 };
            bucket[i.min(n - 1)] += 1.0;
        }
        let mut bucket_limit: Vec<f64> = (1..=n).map(|i| min + width * i as f64).collect();
        bucket_limit[n - 1] = max;
        HistogramProto {
            min,
            max,
            num: finite.len() as f64,
            sum: finite.iter().sum(),
            sum_squares: finite.iter().map(|v| v * v).sum(),
            bucket_limit,
            bucket,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_every_finite_value_once() {
        let h = HistogramProto::of(&[0.0, 1.0, 1.0, 3.0, f64::NAN]);
        assert_eq!((h.min, h.max, h.num, h.sum, h.sum_squares), (0.0, 3.0, 4.0, 5.0, 11.0));
        assert_eq!(h.bucket.len(), BUCKETS);
        assert_eq!(h.bucket.iter().sum::<f64>(), 4.0);
        assert_eq!((h.bucket[0], h.bucket[10], h.bucket[BUCKETS - 1]), (1.0, 2.0, 1.0));
        assert_eq!(*h.bucket_limit.last().unwrap(), 3.0);
        let flat = HistogramProto::of(&[2.0; 5]);
        assert_eq!((flat.bucket_limit, flat.bucket), (vec![2.0], vec![5.0]));
    }
}
