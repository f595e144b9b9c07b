import Foundation

/// The non-standard bounces: prose from qmail, Exim, Sendmail, older Exchange and GroupWise, Yahoo, Postfix
/// without DSN and others, which name the failed addresses in their text, often beside the server's reply.
enum PlainTextBounce {
    /// A bounce's report is a few lines: what lies beyond this is not read for addresses.
    static let maxReportCharacters = 64 << 10
    static let maxReportLines = 400
    /// How much of a line the patterns for markers and quoted fields look at: those are short, and the patterns
    /// backtrack over a line's length (a line of 20,000 dashes or spaces took minutes whole).
    static let markerLength = 200

    /// Local parts of the mail system's own addresses, which bounces name in their prose ("contact postmaster").
    static let systemLocalParts: Set<String> = ["postmaster", "mailer-daemon", "mailer_daemon", "abuse", "root", "hostmaster", "noc", "webmaster"]

    /// Lines that start the copy of the returned message; nothing after them is the report.
    static var returnedMessageStart: some RegexComponent { /(?i)^\s*(-{2,}.*(original message|copy of the message|returned mail|unsent message|message follows|headers? follow|undelivered message|returned message|original text)|[-=*>\s]*original message\b(?! was received)|(a copy of the original message|below this line is a copy)|>?(received|return-path):\s)/ }

    static var warning: some RegexComponent { /(?i)(will (continue|keep) (trying|to try)|will be retried|will retry|still trying|this is a warning message only|has not yet been delivered|not yet been delivered|delivery (attempts )?(will )?continue|attempts will continue|delayed \d+ (hours|minutes|days)|warning: message .* delayed|delivery delayed|no action is required)/ }

    static var failure: some RegexComponent { /(?i)(could not be delivered|undeliverable|permanent (fatal )?errors?|user unknown|unknown user|delivery (has )?failed|did not reach|was not delivered|unable to deliver|failed to deliver|not be delivered|following address(es)? failed|recipient address rejected|no such user|non-delivery)/ }

    /// The failed recipients a plain-text bounce names, in order, with the reply found beside each.
    static func scan(_ parts: [ReceivedMessage], ignoring headerAddresses: Set<String>, subject: String?) -> [RecipientReport] {
        let report = reportText(parts)
        let lines = report.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).prefix(maxReportLines).map(String.init)
        // Built once: a regex literal in the loop would be built again for every line.
        let fieldLine = /(?i)^(\s*(message-id|in-reply-to|references|x-[a-z-]+|from|sender|reply-to|subject|date)|\s+(to|cc|sent))\s*:/
        let mailFrom = /(?i)\bmail from:?\s+<?([^\s<>:,;]+@[^\s<>:,;]*[A-Za-z0-9])/
        let statusCode = /\b[245]\.[0-9]{1,3}\.[0-9]{1,3}\b/
        let delayed = report.firstMatch(of: warning) != nil || (subject ?? "").firstMatch(of: /(?i)delay/) != nil
        var seen: Set<String> = []
        var reports: [RecipientReport] = []
        for (index, line) in lines.enumerated() where reports.count < BounceAnalysis.maxReports {
            // The returned message's own fields, and the "Your message / To: / Sent:" block that quotes them.
            if line.prefix(markerLength).firstMatch(of: fieldLine) != nil { continue }
            // "not accepting mail from <sender>": the sender is not a failed recipient.
            guard line.contains("@") else { continue }
            let senders = Set(line.matches(of: mailFrom).map { $0.output.1.lowercased() })
            for address in MailAddressScanner.addresses(in: line) where !senders.contains(address.lowercased()) && reports.count < BounceAnalysis.maxReports {
                let key = address.lowercased()
                let local = String(key.split(separator: "@").first ?? "")
                guard !systemLocalParts.contains(local), !headerAddresses.contains(key), seen.insert(key).inserted else { continue }
                let context = contextLines(lines, from: index, at: address)
                let status = context.firstMatch(of: statusCode).map { String($0.output) }
                let action = delayed ? "delayed" : "failed"
                reports.append(RecipientReport(recipient: address, finalRecipient: nil, action: nil, status: status,
                                               diagnostic: String(context.prefix(DeliveryStatus.maxDiagnostic)),
                                               bounceClass: .classify(action: action, status: status, diagnostic: context)))
            }
        }
        return reports
    }

    /// The failure phrases of bounces, for a message that does not come from a mail system's address.
    static func saysFailure(_ parts: [ReceivedMessage]) -> Bool {
        reportText(parts).firstMatch(of: failure) != nil
    }

    /// The text parts before the returned message, joined; HTML with its tags removed.
    static func reportText(_ parts: [ReceivedMessage]) -> String {
        var texts: [String] = []
        for part in parts where part.parts.isEmpty {
            let type = part.contentType.type
            guard type == "text/plain" || type == "text/html" || type.hasPrefix("multipart/") else { continue }
            // Bounded before anything else reads it: a report is a few lines.
            var text = String(part.text.prefix(maxReportCharacters * 2))
            if type == "text/html" { text = htmlText(text) }
            var kept: [Substring] = []
            let returnedStart = returnedMessageStart
            for line in String(text.prefix(maxReportCharacters)).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
                if line.prefix(markerLength).firstMatch(of: returnedStart) != nil { break }
                kept.append(line)
            }
            texts.append(kept.joined(separator: "\n"))
        }
        return texts.joined(separator: "\n")
    }

    /// The text of HTML, in one pass: tags become spaces (line ends for those that end a line), scripts and
    /// styles go, entities for `<`, `>`, `&` and spaces are decoded. A `<` that no `>` closes is text.
    static func htmlText(_ html: String) -> String {
        var out = ""
        out.reserveCapacity(html.utf8.count)
        var index = html.startIndex
        while index < html.endIndex {
            guard html[index] == "<" else {
                out.append(html[index])
                index = html.index(after: index)
                continue
            }
            // No `>` after this `<`: the rest is text (and searching again from each later `<` would be quadratic).
            guard let close = html[index...].firstIndex(of: ">") else {
                out += html[index...]
                break
            }
            let inner = html[html.index(after: index)..<close]
            let name = inner.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }.lowercased()
            index = html.index(after: close)
            if (name == "script" || name == "style") && inner.first != "/" {
                // Up to the end of the element; an element never closed takes the rest.
                guard let end = html.range(of: "</\(name)", options: .caseInsensitive, range: index..<html.endIndex),
                      let endClose = html[end.upperBound...].firstIndex(of: ">") else { break }
                index = html.index(after: endClose)
                continue
            }
            out += name == "br" || (inner.first == "/" && ["p", "div", "tr"].contains(name)) ? "\n" : " "
        }
        return out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&nbsp;", with: " ")
    }

    /// The line naming an address and those after it, up to a blank line once some text is found: where a
    /// bounce puts the server's reply.
    static func contextLines(_ lines: [String], from index: Int, at address: String) -> String {
        var context: [String] = []
        // From the address on, and bounded: a line naming a thousand addresses gives each its own words only.
        let first = lines[index].range(of: address).map { String(lines[index][$0.lowerBound...]) } ?? lines[index]
        for line in [first] + lines[(index + 1)..<min(lines.count, index + 8)] {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                if context.count > 1 { break }
                continue
            }
            context.append(trimmed)
        }
        return MailText.printable(String(context.joined(separator: " ").prefix(600)))
    }
}
