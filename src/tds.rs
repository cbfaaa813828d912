//! A TDS (SQL Server protocol) session to Azure SQL or Synapse serverless SQL, signed in
//! with an Entra ID token (`azure_identity`) over TLS, through `tiberius`.
//!
//! One connection per session, opened on first use and re-opened when it fails or its
//! token is about to expire; a statement that failed for a transient reason (a dropped
//! connection, a failover, throttling) is run once more on a fresh connection.

use azure_core::credentials::TokenCredential;
use azure_core::time::OffsetDateTime;
use futures::future::BoxFuture;
use std::sync::Arc;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

/// The Entra ID scope of Azure SQL and Synapse SQL.
pub const SQL_SCOPE: &str = "https://database.windows.net/.default";

pub type TdsClient = Client<Compat<TcpStream>>;

/// Where to connect: `server` is a host name (`pizza-sql.database.windows.net`,
/// `pizza-syn-ondemand.sql.azuresynapse.net`), optionally with `:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdsTarget {
    pub server: String,
    pub port: u16,
    pub database: String,
}

impl TdsTarget {
    pub fn new(server: &str, database: &str) -> Self {
        let (host, port) = match server.rsplit_once(':') {
            Some((host, port)) if port.parse::<u16>().is_ok() => (host, port.parse().unwrap()),
            _ => (server, 1433),
        };
        TdsTarget {
            server: host.trim_start_matches("tcp:").to_string(),
            port,
            database: database.to_string(),
        }
    }

    /// The driver configuration: TLS required (certificates verified), token sign-in.
    pub fn config(&self, token: &str) -> Config {
        let mut config = Config::new();
        config.host(&self.server);
        config.port(self.port);
        config.database(&self.database);
        config.application_name("pizza-pipeline");
        config.encryption(EncryptionLevel::Required);
        config.authentication(AuthMethod::AADToken(token.to_string()));
        config
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TdsError {
    #[error("{target}: cannot get an Entra ID token")]
    Token {
        target: String,
        #[source]
        source: azure_core::Error,
    },
    #[error("{target}: cannot connect")]
    Connect {
        target: String,
        #[source]
        source: tiberius::error::Error,
    },
    #[error("{target}: the statement failed")]
    Statement {
        target: String,
        #[source]
        source: tiberius::error::Error,
    },
}

/// What to do after a statement failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Open a new connection and run the statement once more.
    Reconnect,
    /// Report the error: running it again would fail the same way.
    Fail,
}

/// Server error numbers Microsoft lists as transient for Azure SQL / Synapse SQL
/// ("Troubleshoot transient connection errors"): the database is moving, busy or
/// throttling; a new connection a moment later succeeds.
pub const TRANSIENT_ERRORS: [u32; 12] = [
    233, 615, 926, 4060, 4221, 10928, 10929, 40197, 40501, 40613, 49918, 49919,
];

pub fn retry_decision(error: &tiberius::error::Error) -> RetryDecision {
    use tiberius::error::Error;
    match error {
        Error::Io { .. } | Error::Tls(_) | Error::Routing { .. } => RetryDecision::Reconnect,
        Error::Server(token) => server_error_decision(token.code()),
        _ => RetryDecision::Fail,
    }
}

/// The decision for an error the server reported, by its number.
pub fn server_error_decision(code: u32) -> RetryDecision {
    // 18456 is "login failed": with token sign-in, most often an expired token.
    if TRANSIENT_ERRORS.contains(&code) || code == 18456 {
        RetryDecision::Reconnect
    } else {
        RetryDecision::Fail
    }
}

struct Live {
    client: TdsClient,
    token_expires: OffsetDateTime,
}

impl Live {
    /// Tokens live about an hour; a connection keeps its sign-in, but one about to
    /// outlive its token is replaced before the server drops it mid-statement.
    fn expiring(&self) -> bool {
        self.token_expires - OffsetDateTime::now_utc() < azure_core::time::Duration::minutes(5)
    }
}

pub struct TdsSession {
    target: TdsTarget,
    credential: Arc<dyn TokenCredential>,
    live: tokio::sync::Mutex<Option<Live>>,
}

/// A statement to run on a session's client. It is called again on a new connection
/// when the first try failed transiently, so it owns what it needs.
pub type Statement<T> =
    Box<dyn for<'c> FnMut(&'c mut TdsClient) -> BoxFuture<'c, tiberius::Result<T>> + Send>;

impl TdsSession {
    pub fn new(target: TdsTarget, credential: Arc<dyn TokenCredential>) -> Self {
        TdsSession {
            target,
            credential,
            live: tokio::sync::Mutex::new(None),
        }
    }

    pub fn target(&self) -> &TdsTarget {
        &self.target
    }

    fn name(&self) -> String {
        format!("{}/{}", self.target.server, self.target.database)
    }

    /// Runs `statement`, reconnecting and running it once more after a transient error.
    pub async fn run<T>(&self, mut statement: Statement<T>) -> Result<T, TdsError> {
        let mut live = self.live.lock().await;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if live.as_ref().is_none_or(Live::expiring) {
                *live = Some(self.connect().await?);
            }
            let client = &mut live.as_mut().expect("connected above").client;
            match statement(client).await {
                Ok(value) => return Ok(value),
                Err(error) => {
                    // Whatever the error, this connection's state is unknown now.
                    *live = None;
                    if attempt == 1 && retry_decision(&error) == RetryDecision::Reconnect {
                        tracing::warn!(target = %self.name(), error = %crate::errors::Chain(&error), "transient SQL error; reconnecting and retrying once");
                        continue;
                    }
                    return Err(TdsError::Statement {
                        target: self.name(),
                        source: error,
                    });
                }
            }
        }
    }

    async fn connect(&self) -> Result<Live, TdsError> {
        let token = self
            .credential
            .get_token(&[SQL_SCOPE], None)
            .await
            .map_err(|source| TdsError::Token {
                target: self.name(),
                source,
            })?;
        let mut config = self.target.config(token.token.secret());
        let connect_error = |source: tiberius::error::Error| TdsError::Connect {
            target: self.name(),
            source,
        };
        // Azure SQL's gateway may redirect the client to the database's own node.
        for _ in 0..3 {
            let tcp = TcpStream::connect(config.get_addr())
                .await
                .map_err(|e| connect_error(tiberius::error::Error::from(e)))?;
            tcp.set_nodelay(true).ok();
            match Client::connect(config.clone(), tcp.compat_write()).await {
                Ok(client) => {
                    return Ok(Live {
                        client,
                        token_expires: token.expires_on,
                    })
                }
                Err(tiberius::error::Error::Routing { host, port }) => {
                    config.host(&host);
                    config.port(port);
                }
                Err(e) => return Err(connect_error(e)),
            }
        }
        Err(connect_error(tiberius::error::Error::Protocol(
            "too many redirects".into(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_host_and_port() {
        let t = TdsTarget::new("tcp:pizza-sql.database.windows.net,1433", "pizza");
        assert_eq!(t.port, 1433);
        let t = TdsTarget::new(
            "pizza-syn-ondemand.sql.azuresynapse.net:1444",
            "pizza_warehouse",
        );
        assert_eq!(t.server, "pizza-syn-ondemand.sql.azuresynapse.net");
        assert_eq!(t.port, 1444);
        assert_eq!(t.database, "pizza_warehouse");
        let t = TdsTarget::new("pizza-sql.database.windows.net", "pizza");
        assert_eq!(
            (t.server.as_str(), t.port),
            ("pizza-sql.database.windows.net", 1433)
        );
        assert_eq!(
            t.config("token").get_addr(),
            "pizza-sql.database.windows.net:1433"
        );
    }

    #[test]
    fn dropped_connections_are_retried_bad_statements_are_not() {
        use tiberius::error::Error;
        let io = Error::Io {
            kind: std::io::ErrorKind::ConnectionReset,
            message: "reset".into(),
        };
        assert_eq!(retry_decision(&io), RetryDecision::Reconnect);
        assert_eq!(
            retry_decision(&Error::Routing {
                host: "node".into(),
                port: 11000
            }),
            RetryDecision::Reconnect
        );
        assert_eq!(
            retry_decision(&Error::Protocol("bad packet".into())),
            RetryDecision::Fail
        );
        assert_eq!(
            retry_decision(&Error::Conversion("not a bigint".into())),
            RetryDecision::Fail
        );
        // a failover or throttling is worth a new connection; a bad statement is not
        assert_eq!(server_error_decision(40613), RetryDecision::Reconnect);
        assert_eq!(server_error_decision(40501), RetryDecision::Reconnect);
        assert_eq!(server_error_decision(18456), RetryDecision::Reconnect);
        assert_eq!(server_error_decision(208), RetryDecision::Fail); // invalid object name
        assert_eq!(server_error_decision(102), RetryDecision::Fail); // syntax error
    }
}
