import Appeals
import Foundation

extension MailMessage {
    /// The message for a letter: sent *via* the organization, never from the supporter's
    /// own address (which would be forgery and fail DMARC), with replies going to the supporter.
    /// - Throws: ``MailerError/invalidAddress(field:_:)`` when an address is unusable (an erased supporter has none).
    public static func appeal(
        subject: String, body: String, messageID: String, supporter: Supporter, target: Target, sender: AppConfig.Sender, date: Date
    ) throws(MailerError) -> MailMessage {
        guard let supporterAddress = supporter.email else { throw .invalidAddress(field: "Reply-To", "(erased)") }
        let supporterMailbox = MailAddress(name: supporter.name, address: supporterAddress)
        return try MailMessage(
            from: .appealSender(supporterName: supporter.name, sender: sender),
            replyTo: supporterMailbox,
            to: [MailAddress(name: target.name, address: target.email)],
            cc: sender.copyToSupporter ? [supporterMailbox] : [],
            subject: subject, body: body, messageID: messageID, date: date)
    }
}

extension MailAddress {
    /// `"<supporter> via <sender.name>" <sender.address>`: a letter goes out in the supporter's name from the
    /// organization's own address, never from the supporter's.
    static func appealSender(supporterName: String, sender: AppConfig.Sender) -> MailAddress {
        MailAddress(name: "\(supporterName) via \(sender.name)", address: sender.address)
    }
}
