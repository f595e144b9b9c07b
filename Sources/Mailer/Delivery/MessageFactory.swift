import Appeals
import Foundation

/// Builds the bytes and envelope of a letter's message; safe to use from every worker at once.
struct MessageFactory: Sendable {
    /// A built letter: its bytes, its envelope, and the supporter's copy when that goes in a transaction of its own.
    struct Built: Sendable {
        var bytes: [UInt8]
        var envelope: Envelope
        var copy: Envelope?
    }

    let sender: AppConfig.Sender
    /// Set with `sender.bounceAddress`: each letter's envelope sender names it.
    let returnPath: ReturnPath?
    let now: @Sendable () -> Date

    var envelopeFrom: String { sender.envelopeFrom ?? sender.address }

    /// With a VERP return path, the supporter's copy goes in a transaction of its own with the plain envelope
    /// sender: the supporter never sees a token, so cannot forge the target's bounce with it.
    func build(_ job: DeliveryJob) throws(MailerError) -> Built {
        let message = try MailMessage.appeal(
            subject: job.text.subject, body: job.text.body, messageID: job.letter.messageId,
            supporter: job.supporter, target: job.target, sender: sender, date: now())
        let bytes = Array(message.rendered().utf8)
        guard let returnPath, let id = job.letter.id else {
            return Built(bytes: bytes, envelope: Envelope(from: envelopeFrom, recipients: message.recipients))
        }
        let copies = message.recipients.filter { $0 != job.target.email }
        return Built(bytes: bytes, envelope: Envelope(from: returnPath.address(forLetter: id), recipients: [job.target.email]),
                     copy: copies.isEmpty ? nil : Envelope(from: envelopeFrom, recipients: copies))
    }

    /// The envelope sender of a `--test-to` sample for `target`.
    func testEnvelopeFrom(for target: Target) -> String {
        guard let returnPath, let id = target.id else { return envelopeFrom }
        return returnPath.address(forTestOf: id)
    }
}
