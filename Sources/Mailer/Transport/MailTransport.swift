/// The envelope of one message: who it is from and to, as the SMTP `MAIL FROM` and `RCPT TO` see it.
public struct Envelope: Sendable, Equatable {
    public var from: String
    public var recipients: [String]

    public init(from: String, recipients: [String]) {
        self.from = from
        self.recipients = recipients
    }
}

/// What the server (or the file system) said about one message.
public struct TransportReply: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Accepted for delivery.
        case accepted
        /// Try again later: a 4xx, or a failure before the message was handed over.
        case transient
        /// Refused for good: a 5xx.
        case permanent
        /// The connection failed after the whole message was sent: it may have been accepted.
        case unknownOutcome
        /// Nothing can be sent now (bad credentials, no TLS, server unreachable): stop the run, letters stay queued.
        case stopRun(StopReason)
    }

    public enum StopReason: Sendable, Equatable {
        /// Fix the configuration: credentials, TLS, certificates.
        case configuration
        /// The server could not be reached.
        case unreachable
    }

    public var kind: Kind
    public var code: Int?
    public var text: String

    public init(_ kind: Kind, code: Int?, text: String) {
        self.kind = kind
        self.code = code
        self.text = text
    }

    /// "Mailbox unavailable": the address itself is dead, not the server.
    public var isMailboxUnavailable: Bool {
        guard let code, [550, 551, 553].contains(code) else { return false }
        let lower = text.lowercased()
        return ["5.1.1", "5.1.0", "5.1.2", "5.1.3", "mailbox unavailable", "user unknown", "no such user", "mailbox not found", "unknown user"]
            .contains { lower.contains($0) }
    }
}

/// Somewhere messages go: an SMTP server, or a folder.
public protocol MailTransport: Sendable {
    /// A connection for one worker to use for many messages in turn.
    func makeSession() -> any MailSession
}

/// One connection, used by one worker at a time; it reconnects by itself when needed.
public protocol MailSession: AnyObject {
    func deliver(_ message: [UInt8], envelope: Envelope) -> TransportReply
    func close()
}
