//! Where a party takes logout messages: its `SingleLogoutService` endpoints from metadata
//! (saml-metadata §2.2.2, §2.4.2), one per binding chsim speaks. The Context Handler requires an
//! HTTP-Redirect one of every IdP and user system (reference §2.4).

use super::Binding;
use crate::saml::metadata::Endpoint;

/// One SingleLogoutService endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SloEndpoint {
    /// `Location`: where LogoutRequests go.
    pub location: String,
    /// `ResponseLocation`: where LogoutResponses go, when not to `location`.
    pub response_location: Option<String>,
}

impl SloEndpoint {
    /// Where LogoutRequests go.
    pub fn request_url(&self) -> &str {
        &self.location
    }

    /// Where LogoutResponses go: `ResponseLocation`, else `Location` (saml-metadata §2.2.2).
    pub fn response_url(&self) -> &str {
        self.response_location.as_deref().unwrap_or(&self.location)
    }
}

/// A party's SingleLogoutService endpoints: the first one of each binding in its metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SloEndpoints {
    /// HTTP-Redirect (front channel; the one the Context Handler requires).
    pub redirect: Option<SloEndpoint>,
    /// HTTP-POST (front channel).
    pub post: Option<SloEndpoint>,
    /// SOAP (back channel).
    pub soap: Option<SloEndpoint>,
}

impl SloEndpoints {
    /// The endpoints of `slo` (a role's SingleLogoutService list), first of each binding;
    /// bindings chsim does not speak (Artifact, PAOS) are left out.
    pub fn from_metadata(slo: &[Endpoint]) -> Self {
        let first = |binding: Binding| {
            slo.iter()
                .find(|e| e.binding == binding.uri())
                .map(|e| SloEndpoint {
                    location: e.location.clone(),
                    response_location: e.response_location.clone(),
                })
        };
        Self {
            redirect: first(Binding::Redirect),
            post: first(Binding::Post),
            soap: first(Binding::Soap),
        }
    }

    /// The endpoint for `binding`, if the party has one.
    pub fn get(&self, binding: Binding) -> Option<&SloEndpoint> {
        match binding {
            Binding::Redirect => self.redirect.as_ref(),
            Binding::Post => self.post.as_ref(),
            Binding::Soap => self.soap.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::bindings;

    #[test]
    fn takes_the_first_endpoint_of_each_binding_and_leaves_out_artifact() {
        let slo = SloEndpoints::from_metadata(&[
            Endpoint::new(
                "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
                "https://a",
            ),
            Endpoint::new(bindings::REDIRECT, "https://r1")
                .with_response_location("https://r1/done"),
            Endpoint::new(bindings::REDIRECT, "https://r2"),
            Endpoint::new(bindings::SOAP, "https://soap"),
        ]);
        let redirect = slo.get(Binding::Redirect).unwrap();
        assert_eq!(
            (redirect.request_url(), redirect.response_url()),
            ("https://r1", "https://r1/done")
        );
        assert_eq!(slo.post, None);
        assert_eq!(
            slo.get(Binding::Soap).unwrap().response_url(),
            "https://soap"
        );
    }
}
