import Appeals
import Foundation

/// Builds the bytes and envelope of a letter's message; safe to use from every worker at once.
struct MessageFactory: Sendable {
    let sender: AppConfig.Sender
    let now: @Sendable () -> Date

    var envelopeFrom: String { sender.envelopeFrom ?? sender.address }

    func build(_ job: DeliveryJob) throws(MailerError) -> (bytes: [UInt8], envelope: Envelope) {
        let message = try MailMessage.appeal(
            subject: job.text.subject, body: job.text.body, messageID: job.letter.messageId,
            supporter: job.supporter, target: job.target, sender: sender, date: now())
        return (Array(message.rendered().utf8), Envelope(from: envelopeFrom, recipients: message.recipients))
    }
}
