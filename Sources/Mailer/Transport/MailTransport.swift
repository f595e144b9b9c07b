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
        /// The server stopped answering before the message was handed over: not an attempt; the letter stays
        /// queued, and a run that sees several in a row stops.
        case stalled
        /// The server is busy or closing (a 4xx before any recipient, a connection dropped before the message):
        /// like a stall, not an attempt.
        case serverBusy
        /// Nothing can be sent now (bad credentials, no TLS, sender refused, server unreachable): stop the run,
        /// letters stay queued.
        case stopRun(StopReason)
    }

    public enum StopReason: Sendable, Equatable {
        /// Fix the configuration: credentials, TLS, certificates, the sender address, the right to relay.
        case configuration
        /// The server could not be reached, or stopped answering.
        case unreachable
        /// The server refuses our messages themselves (size, content policy).
        case refused
    }

    public var kind: Kind
    public var code: Int?
    public var text: String
    /// The command the reply answers, when the transport knows it.
    public var stage: SMTPStage?
    /// Replies refusing a copy (`Cc`) while the target's own copy went on: recorded, not a failure of the letter.
    public var refusedCopies: [String] = []

    public init(_ kind: Kind, code: Int?, text: String, stage: SMTPStage? = nil, refusedCopies: [String] = []) {
        self.kind = kind
        self.code = code
        self.text = text
        self.stage = stage
        self.refusedCopies = refusedCopies
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
