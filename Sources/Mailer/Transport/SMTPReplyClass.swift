/// The SMTP command a server's reply answers: who a refusal is about depends on it.
public enum SMTPStage: Sendable, Equatable {
    /// The greeting, EHLO, STARTTLS or AUTH: the session itself.
    case session
    /// `MAIL FROM`: our sender address.
    case mailFrom
    /// `RCPT TO` for the envelope's recipient at this index: `0` is the target, later ones copies.
    case recipient(Int)
    /// `DATA`, before the message is sent.
    case data
    /// The reply after the message's final dot: about the message itself.
    case message
}

/// An RFC 3463 enhanced status code, such as `5.1.1`.
public struct EnhancedStatus: Sendable, Equatable, CustomStringConvertible {
    public var klass: Int
    public var subject: Int
    public var detail: Int

    /// The code that follows the basic reply code in `text` (`550 5.1.1 <x>: ...`), if there is one.
    public init?(reply text: String) {
        let bytes = Array(text.utf8.prefix(24))
        guard bytes.count > 4 else { return nil }
        var index = 4
        func number(max: Int) -> Int? {
            let start = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]), index - start < max { index += 1 }
            guard index > start else { return nil }
            return Int(String(decoding: bytes[start..<index], as: UTF8.self))
        }
        guard let klass = number(max: 1), [2, 4, 5].contains(klass), index < bytes.count, bytes[index] == 0x2E else { return nil }
        index += 1
        guard let subject = number(max: 3), index < bytes.count, bytes[index] == 0x2E else { return nil }
        index += 1
        guard let detail = number(max: 3) else { return nil }
        if index < bytes.count && bytes[index] != 0x20 && bytes[index] != 0x09 { return nil }
        self.klass = klass
        self.subject = subject
        self.detail = detail
    }

    public var description: String { "\(klass).\(subject).\(detail)" }
}

extension TransportReply {
    /// What a refusal (a 4xx or 5xx reply) means for the letter and for the run, by the command it answers.
    ///
    /// Only the recipient's own `RCPT` reply can be about one letter's address. A refusal of our sender, of
    /// our session, or a policy refusal (5.7.x, "relay denied", a failed sender verification) is about us: it
    /// would refuse every letter, so it stops the run and the letters stay queued. A 4xx before any recipient
    /// (421 at the greeting, at MAIL FROM) says the server is busy: no attempt is spent. A refusal after the
    /// final dot fails that letter only.
    /// - Parameter sender: our envelope sender: a refusal before the message that names it is about us (a failed
    ///   sender verification), whatever else it says.
    static func classify(code: Int, text: String, stage: SMTPStage?, sender: String? = nil) -> Kind {
        let status = EnhancedStatus(reply: text)
        let namesSender = sender.map { !$0.isEmpty && text.lowercased().contains($0.lowercased()) } ?? false
        if [530, 534, 535].contains(code) { return .stopRun(.configuration) }
        let transient = (400..<500).contains(code)
        switch stage {
        case .session:
            // The server is busy or closing (421): not the letter's fault, so not an attempt.
            return transient ? .serverBusy : .stopRun(.configuration)
        case .mailFrom:
            return transient ? .serverBusy : .stopRun(.configuration)
        case .recipient, .data:
            if transient { return .transient }
            return namesSender || isAboutUs(status, text) ? .stopRun(.configuration) : .permanent
        case .message, nil:
            // A refusal of one message (its size, its content, the target's full mailbox) fails that letter:
            // the letter must not block the queue. The same refusal in a row stops the run (`RunBreaker`).
            return transient ? .transient : .permanent
        }
    }

    /// A refusal that is about our sender or our right to relay, not the address.
    static func isAboutUs(_ status: EnhancedStatus?, _ text: String) -> Bool {
        if status?.subject == 7 { return true }
        let lower = text.lowercased()
        return ["relay", "authentication required", "sender address rejected", "not permitted to send", "sender verify",
                "verification failed", "rcpthosts", "#5.7."].contains { lower.contains($0) }
    }

    /// Whether a refusal says the target's own mailbox does not exist: only a `RCPT` reply for the target,
    /// with 5.1.1 (no such user), 5.1.10 (null MX) or 5.2.1 (mailbox disabled); or, from a server that sends
    /// no enhanced code, 550/551 with words that say so.
    public var isTargetMailboxUnavailable: Bool {
        guard kind == .permanent, stage == .recipient(0), let code else { return false }
        if let status = EnhancedStatus(reply: text) {
            return status.klass == 5 && ((status.subject == 1 && [1, 10].contains(status.detail)) || (status.subject == 2 && status.detail == 1))
        }
        guard code == 550 || code == 551 else { return false }
        let lower = text.lowercased()
        return ["user unknown", "unknown user", "no such user", "mailbox unavailable", "mailbox not found", "does not exist",
                "no mailbox", "recipient not found", "invalid recipient"].contains { lower.contains($0) }
    }
}
