import Foundation

/// The settings of `appeal.json`; every key has a default, so no file at all is a working demo set-up.
public struct AppConfig: Sendable, Equatable {
    public enum Security: String, Sendable {
        /// STARTTLS required: a server that does not offer it is an error, never a plaintext fallback.
        case starttls
        case none
    }

    public struct SMTP: Sendable, Equatable {
        /// `smtp://host:port`, `smtps://host:port` or `file:///dir`.
        public var url = "file://./outbox"
        public var security = Security.starttls
        public var username: String?
        /// The name of the environment variable holding the password; the password itself is never in a file.
        public var passwordEnv = "APPEAL_SMTP_PASSWORD"
        public var caFile: String?
        public var timeoutSeconds = 30
        public var connections = 2

        /// `url`, parsed.
        /// - Throws: ``AppealsError/invalidInput(_:)`` naming `smtp.url`.
        public func endpoint() throws(AppealsError) -> MailEndpoint { try MailEndpoint(url: url) }
    }

    public struct Sender: Sendable, Equatable {
        public var name = "Urgent Appeals"
        public var address = "appeals@example.org"
        public var envelopeFrom: String?
        /// When set, each letter's envelope sender is `local+TOKEN@domain` (VERP), which names the letter.
        public var bounceAddress: String?
        public var copyToSupporter = false

        /// The domain of `address`, used for Message-IDs.
        public var domain: String { String(address.split(separator: "@").last ?? "localhost") }
    }

    public struct Limits: Sendable, Equatable {
        /// `0`: no limit.
        public var messagesPerSecond = 10
        public var perTargetPerHour = 0
        public var maxAttempts = 8
        public var retryBaseSeconds = 60
        public var retryMaxSeconds = 3600
    }

    public struct Web: Sendable, Equatable {
        /// `host:port` the server listens on.
        public var listen = "127.0.0.1:8080"
        /// The address supporters reach the server at, as links in emails give it: `https://appeals.example.org`.
        public var baseURL = "http://127.0.0.1:8080"
        /// The name of the environment variable holding the dashboard's secret.
        public var adminSecretEnv = "APPEAL_ADMIN_SECRET"
        /// How long a confirmation link can be used.
        public var confirmationHours = 48
        /// Form posts (preview, edit, send, confirm) from one client address per 10 minutes; 0: no limit.
        public var formPostsPerAddress = 60
        /// Confirmation emails to one email address per hour, whoever asks; 0: no limit.
        public var emailsPerAddressPerHour = 3
        /// Login attempts on the dashboard from one client address per 10 minutes.
        public var loginsPerAddress = 10

        /// `listen`, split.
        public var listenAddress: (host: String, port: Int) {
            let colon = listen.lastIndex(of: ":")!
            return (String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), Int(listen[listen.index(after: colon)...])!)
        }
    }

    /// The SQLite file; relative paths are taken from the config file's folder.
    public var database = "appeals.sqlite"
    /// The environment variable holding the PostgreSQL password (never stored in a file).
    public var databasePasswordEnv = "APPEAL_DATABASE_PASSWORD"
    public var smtp = SMTP()
    public var sender = Sender()
    public var limits = Limits()
    public var web = Web()

    public init() {}

    /// Whether `database` is a PostgreSQL URL rather than a SQLite file.
    public var usesPostgres: Bool { database.lowercased().hasPrefix("postgres://") || database.lowercased().hasPrefix("postgresql://") }
}

extension AppConfig.Web {
    static func listenProblem(_ listen: String) -> String? {
        guard let colon = listen.lastIndex(of: ":"), colon != listen.startIndex,
              let port = Int(listen[listen.index(after: colon)...]), (1...65_535).contains(port) else {
            return "\"\(listen)\" is not host:port (e.g. 127.0.0.1:8080)"
        }
        return nil
    }

    static func baseURLProblem(_ baseURL: String) -> String? {
        guard let url = URLComponents(string: baseURL), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host?.isEmpty == false, url.query == nil, url.fragment == nil else {
            return "\"\(baseURL)\" is not an http:// or https:// address (e.g. https://appeals.example.org)"
        }
        return nil
    }
}
