package model

// MessageTemplate is an organisation's text for the messages of one
// channel and link kind, in one language or in every language, or the
// built-in text when the organisation has none.
type MessageTemplate struct {
	// Key names the template: CHANNEL.KIND, or CHANNEL.KIND.LANGUAGE for
	// one language's (sms.activation, email.installation.de).
	Key      string   `json:"key"`
	Channel  string   `json:"channel"`
	Kind     LinkKind `json:"kind"`
	Language string   `json:"language"` // "": every language without its own
	// Subject is an e-mail's subject; always empty for SMS.
	Subject string `json:"subject,omitempty"`
	// Text is the SMS's text or the e-mail's body, plain text with
	// placeholders such as {{.Link}}.
	Text string `json:"text"`
	// CustomSubject and CustomText say whether the organisation set the
	// subject and the text; false: they show the built-in text.
	CustomSubject bool `json:"custom_subject"`
	CustomText    bool `json:"custom_text"`
	// Encoding, Segments and Chars tell how the SMS renders with sample
	// values and the organisation's settings; zero for e-mail.
	Encoding string `json:"encoding,omitempty"`
	Segments int    `json:"segments,omitempty"`
	Chars    int    `json:"chars,omitempty"`
}

// MessageTemplateInput sets a template's subject and text: an absent one
// keeps its value, an empty one restores the built-in text.
type MessageTemplateInput struct {
	Subject *string `json:"subject,omitempty"` // e-mail only
	Text    *string `json:"text,omitempty"`
}

// TemplatePlaceholder is one value a message template may write.
type TemplatePlaceholder struct {
	Name string `json:"name"` // written {{.Name}}
	Help string `json:"help"`
}

// TemplatePlaceholders are the values a message template may write; any
// other is refused. None is a credential: the link is the one secret a
// message carries, and it is the landing page's link.
var TemplatePlaceholders = []TemplatePlaceholder{
	{"Name", "the user's display name; empty when the account has none"},
	{"Link", "the secure link to the landing page; every text must write it, a subject never"},
	{"Company", "the company_name setting, or the organisation's name"},
	{"Expiry", "when the link expires, in the user's language: the day in an SMS, the day and time in an e-mail"},
	{"ITContact", "the account's group's IT e-mail, else the it_contact setting; empty when neither is set"},
}
