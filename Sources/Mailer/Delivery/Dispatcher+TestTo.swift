import Appeals
import Foundation

/// What a `[TEST]` sample for one target came to.
public struct TestSendResult: Sendable {
    public var target: Target
    public var reply: TransportReply
}

extension Dispatcher {
    /// Sends one sample letter per target to `address` only, subject prefixed `[TEST]`, with a fresh
    /// Message-ID; no letter's status changes.
    /// - Returns: a reply per target, and the targets that have no letter queued yet.
    public func sendTests(campaign slug: String, to address: String) async throws(AppealsError) -> (results: [TestSendResult], withoutLetter: [Target]) {
        try await ThreadExecutor.run(name: "appeal-test-to") { () throws(AppealsError) in try self.sendTestsBlocking(campaign: slug, to: address) }
    }

    private func sendTestsBlocking(campaign slug: String, to address: String) throws(AppealsError) -> (results: [TestSendResult], withoutLetter: [Target]) {
        if let problem = EmailAddress.problem(with: address) {
            throw .invalid(InputLocation(file: "--test-to"), problem)
        }
        let (samples, missing) = try store.sampleLetters(campaign: slug)
        let factory = try factory()
        let session = transport.makeSession()
        defer { session.close() }
        let ids = MessageIDGenerator(domain: config.sender.domain)
        var results: [TestSendResult] = []
        for job in samples {
            let reply: TransportReply
            do {
                let message = try MailMessage(
                    from: .appealSender(supporterName: job.supporter.name, sender: config.sender),
                    // A sample carries no real supporter's address: replies go to the tester too.
                    replyTo: MailAddress(name: job.supporter.name, address: address),
                    to: [MailAddress(name: "[TEST for \(job.target.name)]", address: address)],
                    subject: "[TEST] " + job.text.subject, body: job.text.body, messageID: ids.next(), date: now())
                reply = session.deliver(Array(message.rendered().utf8), envelope: Envelope(from: factory.testEnvelopeFrom(for: job.target), recipients: [address]))
            } catch {
                reply = TransportReply(.permanent, code: nil, text: "cannot build the message: \(error)")
            }
            results.append(TestSendResult(target: job.target, reply: reply))
            if case .stopRun = reply.kind { break }
        }
        return (results, missing)
    }
}
