import Foundation

/// A plain-text email, rendered to RFC 5322/2045 bytes with its headers in a fixed order.
public struct MailMessage: Sendable, Equatable {
    public var from: MailAddress
    public var replyTo: MailAddress?
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var subject: String
    public var body: String
    /// `<id@domain>`.
    public var messageID: String
    public var date: Date

    /// - Throws: ``MailerError/invalidAddress(field:_:)`` for any address that is not a plain `local@domain`.
    public init(from: MailAddress, replyTo: MailAddress?, to: [MailAddress], cc: [MailAddress] = [], subject: String, body: String,
                messageID: String, date: Date) throws(MailerError) {
        self.from = try from.validated(field: "From")
        self.replyTo = try replyTo?.validated(field: "Reply-To")
        self.to = try to.map { address throws(MailerError) in try address.validated(field: "To") }
        self.cc = try cc.map { address throws(MailerError) in try address.validated(field: "Cc") }
        self.subject = subject
        self.body = body
        self.messageID = messageID
        self.date = date
    }

    /// Every envelope recipient: To, then Cc.
    public var recipients: [String] { (to + cc).map(\.address) }

    /// The message as sent: CRLF line ends, folded headers, quoted-printable UTF-8 body.
    public func rendered() -> String {
        var headers: [String] = []
        headers.append(HeaderEncoding.fold("Date", [Self.rfc5322Date(date)]))
        headers.append(HeaderEncoding.fold("From", HeaderEncoding.mailbox(from)))
        if let replyTo { headers.append(HeaderEncoding.fold("Reply-To", HeaderEncoding.mailbox(replyTo))) }
        headers.append(HeaderEncoding.fold("To", Self.list(to)))
        if !cc.isEmpty { headers.append(HeaderEncoding.fold("Cc", Self.list(cc))) }
        headers.append(HeaderEncoding.fold("Subject", HeaderEncoding.unstructured(subject)))
        headers.append(HeaderEncoding.fold("Message-ID", [String(decoding: HeaderEncoding.sanitized(messageID).utf8.filter { $0 != 0x20 }, as: UTF8.self)]))
        headers.append("MIME-Version: 1.0")
        headers.append("Content-Type: text/plain; charset=utf-8")
        headers.append("Content-Transfer-Encoding: quoted-printable")
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + QuotedPrintable.encode(body)
    }

    private static func list(_ mailboxes: [MailAddress]) -> [String] {
        var tokens: [String] = []
        for (index, mailbox) in mailboxes.enumerated() {
            var parts = HeaderEncoding.mailbox(mailbox)
            if index < mailboxes.count - 1 { parts[parts.count - 1] += "," }
            tokens += parts
        }
        return tokens
    }

    /// `Mon, 23 Nov 2026 11:05:00 +0000`: English names and UTC whatever the machine's locale. Formatted by
    /// hand: a DateFormatter per message costs more than the rest of the message.
    static func rfc5322Date(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
