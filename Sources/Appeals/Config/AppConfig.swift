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

    /// The SQLite file; relative paths are taken from the config file's folder.
    public var database = "appeals.sqlite"
    public var smtp = SMTP()
    public var sender = Sender()
    public var limits = Limits()

    public init() {}
}
