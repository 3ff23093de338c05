//! Reading the body of an outgoing HTTP request (attribute services, metadata URLs) with an upper
//! bound, so that a misbehaving peer cannot make chsim buffer an unbounded answer: the read stops
//! as soon as the bound is passed.

/// Why a bounded read failed.
#[derive(Debug, thiserror::Error)]
pub enum BoundedReadError {
    /// The body is larger than allowed.
    #[error("the answer is larger than {limit} bytes")]
    TooLarge {
        /// The bound.
        limit: usize,
    },
    /// The transfer failed.
    #[error("reading the answer failed: {0}")]
    Transfer(#[from] reqwest::Error),
    /// The body is not UTF-8.
    #[error("the answer is not UTF-8 text")]
    NotUtf8,
}

/// The body of `response` as text, refusing more than `limit` bytes.
pub async fn text_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<String, BoundedReadError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BoundedReadError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(BoundedReadError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| BoundedReadError::NotUtf8)
}
