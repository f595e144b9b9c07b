/// RFC 3464: the `message/delivery-status` part of a delivery status notification.
enum DeliveryStatus {
    static let maxDiagnostic = 500

    /// A report per recipient, or nil when the message has no delivery-status part.
    static func reports(in parts: [ReceivedMessage]) -> [RecipientReport]? {
        let statusParts = parts.filter { ["message/delivery-status", "message/global-delivery-status"].contains($0.contentType.type) }
        guard !statusParts.isEmpty else { return nil }
        return Array(statusParts.flatMap { reports(in: $0.decodedBody) }.prefix(BounceAnalysis.maxReports))
    }

    /// The per-recipient groups follow the per-message group, each a block of fields ended by an empty line.
    static func reports(in body: [UInt8]) -> [RecipientReport] {
        var groups: [[ArraySlice<UInt8>]] = [[]]
        for line in MailText.lines(of: body[...]) {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                // The per-message group, then the recipients a report may name.
                if groups.count > BounceAnalysis.maxReports { break }
                if !groups[groups.count - 1].isEmpty { groups.append([]) }
            } else {
                groups[groups.count - 1].append(line)
            }
        }
        return groups.compactMap { lines -> RecipientReport? in
            let joined = Array(lines.joined(separator: [0x0A]))
            let fields = ReceivedMessage.headers(in: joined[...])
            func field(_ name: String) -> String? {
                fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
            }
            // The address the letter was sent to is the original one; the final one may be where it was forwarded.
            let original = field("Original-Recipient").flatMap(address), final = field("Final-Recipient").flatMap(address)
            guard let recipient = original ?? final else { return nil }
            let action = field("Action")?.split(separator: " ").first.map { $0.lowercased() }
            let status = field("Status").flatMap { EnhancedStatus($0) != nil ? $0.split(separator: " ").first.map(String.init) : nil }
            let diagnostic = field("Diagnostic-Code").map(diagnosticText)
            return RecipientReport(recipient: recipient, finalRecipient: final == recipient ? nil : final,
                                   action: action, status: status, diagnostic: diagnostic,
                                   bounceClass: .classify(action: action, status: status, diagnostic: diagnostic))
        }
    }

    /// `rfc822; user@example.org` → `user@example.org`.
    static func address(_ value: String) -> String? {
        let typed = value.split(separator: ";", maxSplits: 1)
        let raw = typed.count == 2 ? String(typed[1]) : value
        return MailAddressScanner.addresses(in: raw).first
    }

    /// `smtp; 550 5.1.1 <x@y>: Recipient address rejected` → the text after the type, shortened.
    static func diagnosticText(_ value: String) -> String {
        let typed = value.split(separator: ";", maxSplits: 1)
        let text = (typed.count == 2 && !typed[0].contains(" ") ? String(typed[1]) : value).trimmingCharacters(in: .whitespaces)
        return MailText.printable(String(text.prefix(maxDiagnostic)))
    }
}
