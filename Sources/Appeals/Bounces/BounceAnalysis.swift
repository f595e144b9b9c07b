/// One recipient's fate, as a bounce message reports it.
public struct RecipientReport: Sendable, Equatable {
    /// The address the message was sent to (`Original-Recipient`, else `Final-Recipient`, or the one a
    /// plain-text bounce names).
    public var recipient: String
    /// Where it was forwarded and failed (`Final-Recipient`), when that is another address.
    public var finalRecipient: String?
    /// `failed`, `delayed`, `delivered`, `relayed` or `expanded`; nil in plain-text bounces.
    public var action: String?
    /// The RFC 3463 status code (`5.1.1`), when there is one.
    public var status: String?
    /// What the remote server said, shortened.
    public var diagnostic: String?
    public var bounceClass: BounceClass
}

/// What a received message turned out to be: its kind, its per-recipient reports, and what it says about the
/// message it returns.
public struct BounceAnalysis: Sendable {
    /// Reports read of one message: a real bounce names a handful of recipients, and each is matched inside the
    /// write that stores it.
    public static let maxReports = 100

    /// How the message was read.
    public enum Format: String, Sendable {
        /// An RFC 3464 delivery status notification.
        case dsn
        /// A plain-text bounce of one of the non-standard formats.
        case text
        /// An ARF feedback report.
        case arf
        /// An automatic reply.
        case autoReply = "auto-reply"
        /// Nothing that could be read.
        case none
    }

    public var format: Format
    public var reports: [RecipientReport]
    /// The returned message's `Message-ID`, angle brackets included, when the bounce carries its headers.
    public var originalMessageID: String?
    /// The addresses this message was delivered to (`Delivered-To`, `X-Original-To`, `To`...), where a
    /// VERP return path shows.
    public var deliveredTo: [String]
    /// The returned message's `Return-Path`, when its headers came back with it.
    public var originalReturnPath: String?
    public var subject: String?
    public var from: String?

    /// The class of the message as a whole: its reports' most serious one, or what it is when it has none.
    public var overallClass: BounceClass {
        let order: [BounceClass] = [.mailbox, .policy, .rejected, .transient, .delayed, .delivered]
        if let worst = order.first(where: { kind in reports.contains { $0.bounceClass == kind } }) { return worst }
        switch format {
        case .arf: return .feedback
        case .autoReply: return .autoReply
        default: return .unrecognized
        }
    }
}
