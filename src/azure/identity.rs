//! The Entra ID credential every Azure adapter signs in with.
//!
//! In Azure (the Functions host sets `IDENTITY_ENDPOINT`) it is the Function App's managed
//! identity: system-assigned, or user-assigned when `AZURE_CLIENT_ID` names one. No
//! secret exists anywhere. Elsewhere (an operator running `serve` on a workstation
//! against a subscription) it is the developer's own sign-in (`az login` / `azd`).

use super::settings::AzureSettings;
use azure_core::credentials::TokenCredential;
use azure_identity::{
    DeveloperToolsCredential, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId,
};
use std::sync::Arc;

/// Which credential [`credential`] picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialKind {
    SystemAssignedIdentity,
    UserAssignedIdentity(String),
    DeveloperSignIn,
}

pub fn credential_kind(in_azure: bool, client_id: &str) -> CredentialKind {
    match (in_azure, client_id.trim()) {
        (false, _) => CredentialKind::DeveloperSignIn,
        (true, "") => CredentialKind::SystemAssignedIdentity,
        (true, id) => CredentialKind::UserAssignedIdentity(id.to_string()),
    }
}

pub fn credential(settings: &AzureSettings) -> azure_core::Result<Arc<dyn TokenCredential>> {
    let in_azure = std::env::var_os("IDENTITY_ENDPOINT").is_some();
    let kind = credential_kind(in_azure, settings.client_id.as_deref().unwrap_or(""));
    tracing::info!(?kind, "Entra ID credential");
    let credential: Arc<dyn TokenCredential> = match kind {
        CredentialKind::SystemAssignedIdentity => ManagedIdentityCredential::new(None)?,
        CredentialKind::UserAssignedIdentity(id) => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: Some(UserAssignedId::ClientId(id)),
                ..Default::default()
            }))?
        }
        CredentialKind::DeveloperSignIn => DeveloperToolsCredential::new(None)?,
    };
    Ok(credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_identity_in_azure_developer_sign_in_elsewhere() {
        assert_eq!(
            credential_kind(true, ""),
            CredentialKind::SystemAssignedIdentity
        );
        assert_eq!(
            credential_kind(true, " 0000-id "),
            CredentialKind::UserAssignedIdentity("0000-id".into())
        );
        assert_eq!(
            credential_kind(false, "0000-id"),
            CredentialKind::DeveloperSignIn
        );
    }
}
