import Foundation

/// Reads a received message as a bounce: an RFC 3464 delivery status notification first, then an ARF report,
/// an automatic reply, and the plain-text formats that many servers still send.
public enum BounceParser {
    public static func analyze(_ message: ReceivedMessage) -> BounceAnalysis {
        let parts = message.allParts
        let returned = returnedHeaders(in: parts)
        var analysis = BounceAnalysis(
            format: .none, reports: [],
            originalMessageID: returned?.header("Message-ID").flatMap(messageID) ?? inlineMessageID(in: parts),
            deliveredTo: ["Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "X-Rcpt-To", "To"]
                .flatMap { message.headers($0) }.flatMap(MailAddressScanner.addresses(in:)),
            originalReturnPath: returned?.header("Return-Path").flatMap { MailAddressScanner.addresses(in: $0).first },
            subject: message.header("Subject").map(MailText.decodeEncodedWords),
            from: message.header("From").map(MailText.decodeEncodedWords))

        // Some servers return the whole report inside a message/rfc822 part of their own.
        if let reports = DeliveryStatus.reports(in: parts) ?? DeliveryStatus.reports(in: parts.compactMap(\.enclosed).flatMap(\.allParts)),
           !reports.isEmpty {
            analysis.format = .dsn
            analysis.reports = reports
        } else if isFeedbackReport(message, parts: parts) {
            analysis.format = .arf
        } else if !looksLikeBounce(message, subject: analysis.subject), isAutoReply(message, subject: analysis.subject) {
            analysis.format = .autoReply
        } else {
            let scan = PlainTextBounce.scan(parts, ignoring: headerAddresses(of: message), subject: analysis.subject)
            if !scan.isEmpty, looksLikeBounce(message, subject: analysis.subject) || PlainTextBounce.saysFailure(parts) {
                analysis.format = .text
                analysis.reports = scan
            } else if isAutoReply(message, subject: analysis.subject) {
                analysis.format = .autoReply
            }
        }
        return analysis
    }

    /// The headers of the returned message: a `message/rfc822` part or a `text/rfc822-headers` part.
    static func returnedHeaders(in parts: [ReceivedMessage]) -> ReceivedMessage? {
        parts.lazy.compactMap(\.enclosed).first { !$0.headers.isEmpty }
    }

    /// A `Message-ID:` line quoted in a plain-text bounce that returns the message inline.
    static func inlineMessageID(in parts: [ReceivedMessage]) -> String? {
        for part in parts where part.contentType.type.hasPrefix("text/") {
            // Bounded, and no `\s*` across lines: a body of blank lines must not cost quadratic time.
            if let match = String(part.text.prefix(PlainTextBounce.maxReportCharacters)).firstMatch(of: /(?im)^[ \t]*Message-ID:[ \t]*(<[^<>\s]+@[^<>\s]+>)/) {
                return String(match.output.1)
            }
        }
        return nil
    }

    static func messageID(_ value: String) -> String? {
        value.firstMatch(of: /<[^<>\s]+@[^<>\s]+>/).map { String($0.output) }
    }

    static func isFeedbackReport(_ message: ReceivedMessage, parts: [ReceivedMessage]) -> Bool {
        let type = message.contentType
        if type.type == "multipart/report" && type.parameters["report-type"]?.lowercased() == "feedback-report" { return true }
        return parts.contains { $0.contentType.type == "message/feedback-report" }
    }

    /// Sent by a mail system about a delivery, not by a person or an autoresponder.
    static func looksLikeBounce(_ message: ReceivedMessage, subject: String?) -> Bool {
        let from = (message.header("From") ?? "").lowercased()
        if ["mailer-daemon", "postmaster", "mail delivery", "mail administrator", "mailer_daemon"].contains(where: from.contains) { return true }
        if let returnPath = message.header("Return-Path"), returnPath.trimmingCharacters(in: .whitespaces) == "<>" { return true }
        let subject = (subject ?? "").lowercased()
        return ["undeliver", "undelivered", "delivery status notification", "delivery failure", "delivery failed",
                "delivery has failed", "returned mail", "failure notice", "failed delivery", "failure delivery",
                "non-deliverable", "nondeliverable", "not delivered", "could not be delivered", "mail system error",
                "delivery problem", "delivery notification", "returned to sender", "delayed mail", "delivery delayed", "non-delivery",
                "user unknown"]
            .contains(where: subject.contains)
    }

    /// RFC 3834 and the older conventions autoresponders follow.
    static func isAutoReply(_ message: ReceivedMessage, subject: String?) -> Bool {
        if let auto = message.header("Auto-Submitted")?.lowercased(), !auto.hasPrefix("no") { return true }
        if message.header("X-Autoreply") != nil || message.header("X-Autorespond") != nil || message.header("X-Autoresponse") != nil { return true }
        if message.header("Precedence")?.lowercased().contains("auto_reply") == true { return true }
        let subject = (subject ?? "").lowercased()
        return ["out of office", "out of the office", "automatic reply", "auto reply", "autoreply", "auto-reply",
                "absence", "abwesenheit", "réponse automatique", "reponse automatique", "away from", "on vacation",
                "respuesta automática", "automatische antwort"]
            .contains(where: subject.contains) || subject.hasPrefix("auto:")
    }

    /// The addresses in the bounce's own headers: senders and list addresses, never the failed recipient.
    static func headerAddresses(of message: ReceivedMessage) -> Set<String> {
        let names = ["From", "To", "Cc", "Sender", "Reply-To", "Return-Path", "Errors-To", "Resent-From", "Resent-Sender"]
        return Set(names.flatMap { message.headers($0) }.flatMap(MailAddressScanner.addresses(in:)).map { $0.lowercased() })
    }
}
