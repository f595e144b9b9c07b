import GRDB

/// What a bounce report says about one recipient, and so what it does to the letter and its target.
public enum BounceClass: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// A permanent failure about the address itself (no such mailbox, no such domain): the letter bounced and
    /// the target is disabled.
    case mailbox
    /// A permanent rejection about the sender (spam, DMARC, a block list, 5.7.x): the letter bounced, the
    /// target is kept, since its address is good.
    case policy
    /// Another permanent failure (a message too big, content refused): the letter bounced, the target is kept.
    case rejected
    /// A full mailbox or another temporary failure: counted; the target is disabled only when such reports
    /// keep coming on several days (``BouncePolicy``).
    case transient
    /// Still being tried (`Action: delayed`, a warning): nothing changes.
    case delayed
    /// A success notice (`Action: delivered`, `relayed`, `expanded`): nothing changes.
    case delivered
    /// An out-of-office or other automatic reply (RFC 3834): nothing changes.
    case autoReply = "auto-reply"
    /// A complaint in the Abuse Reporting Format (RFC 5965): nothing changes; listed for the organizer.
    case feedback
    /// Not a bounce that could be read: kept and listed, nothing changes.
    case unrecognized

    /// The letter did not arrive and will not: it becomes `bounced`.
    public var bouncesLetter: Bool { self == .mailbox || self == .policy || self == .rejected }

    /// Counts toward a failure of the target's address.
    public var isFailure: Bool { bouncesLetter || self == .transient }

    /// Classifies one recipient's report from its DSN `Action`, enhanced `Status` code (RFC 3463) and
    /// diagnostic text; the code decides where there is one, the words where there is none.
    public static func classify(action: String?, status: String?, diagnostic: String?) -> BounceClass {
        switch action?.lowercased() {
        case "delivered", "relayed", "expanded": return .delivered
        case "delayed": return .delayed
        default: break
        }
        let text = (diagnostic ?? "").lowercased()
        let words = BounceWords.classify(text)
        if let status, let code = EnhancedStatus(status) {
            switch (code.subject, code.detail) {
            case (7, _): return .policy
            case (2, 2): return .transient                  // mailbox full, whatever the class
            case (1, 7), (1, 8): return .policy             // the sender's address is refused
            case _ where code.klass == 4: return .transient
            case (1, _), (2, 1), (4, 4): return words == .policy ? .policy : .mailbox
            default: return words ?? .rejected
            }
        }
        if let words { return words }
        // A bare SMTP code in the text: 5xx is permanent, 4xx temporary.
        if text.firstMatch(of: /\b4[0-9][0-9][ -]/) != nil && text.firstMatch(of: /\b5[0-9][0-9][ -]/) == nil { return .transient }
        return .rejected
    }
}

/// An RFC 3463 enhanced status code: `class.subject.detail`.
struct EnhancedStatus: Equatable {
    var klass: Int, subject: Int, detail: Int

    init?(_ text: String) {
        guard let match = text.firstMatch(of: /([245])\.([0-9]{1,3})\.([0-9]{1,3})/),
              let klass = Int(match.output.1), let subject = Int(match.output.2), let detail = Int(match.output.3) else { return nil }
        (self.klass, self.subject, self.detail) = (klass, subject, detail)
    }
}

/// The words mail servers use for each kind of failure, in their diagnostics and plain-text bounces.
enum BounceWords {
    static let policy = [
        "spam", "dmarc", "spf ", "spf:", "dkim", "blacklist", "black list", "blocklist", "block list", "denylist",
        "blocked", "rbl", "reputation", "policy", "junk", "banned", "listed at", "not accepted for policy",
        // About our sender address or host, not the target's mailbox (sender verification, reverse DNS).
        "sender", "verification failed", "verify failed", "reverse dns", "too many invalid", "from you", "your ip",
    ]
    static let transient = [
        "mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded storage", "exceeds quota",
        "quota violation", "insufficient storage", "temporar", "try again", "too many connections", "rate limit",
        "timed out", "not responding", "not reachable", "connection refused",
    ]
    static let mailbox = [
        "user unknown", "unknown user", "no such user", "no such mailbox", "no such recipient", "mailbox unavailable",
        "mailbox not found", "mailbox does not exist", "does not exist", "doesn't exist", "unknown recipient",
        "recipient unknown", "invalid recipient", "invalid mailbox", "user not found", "addressee unknown",
        "not recognized", "unknown or illegal", "account disabled", "account has been disabled", "account is disabled",
        "disabled or discontinued", "no longer", "no such domain", "domain not found", "host not found",
        "host or domain name not found", "name service error", "unrouteable", "unroutable", "no mailbox",
        "unknown local part", "recipient address rejected", "not a valid", "bad destination", "no longer available",
    ]

    /// The kind the words point to, if any; policy first, as "blocked: user unknown" is rare and the reverse
    /// (a block list named in a mailbox error) is not.
    static func classify(_ text: String) -> BounceClass? {
        if policy.contains(where: text.contains) { return .policy }
        if transient.contains(where: text.contains) { return .transient }
        if mailbox.contains(where: text.contains) { return .mailbox }
        return nil
    }
}
