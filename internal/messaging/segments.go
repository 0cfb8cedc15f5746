package messaging

import (
	"strings"
	"unicode/utf16"
)

// SMS encodings.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// gsmBasic is the GSM 03.38 default alphabet; gsmExtended are the
// characters that take an escape plus one septet (two in all).
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "^{}\\[~]|€\f"
)

// SMSSegments tells how an SMS text is encoded and how many parts it takes:
// GSM-7 holds 160 septets in one part and 153 per part of a longer message;
// any other character makes the whole text UCS-2, 70 UTF-16 units in one
// part and 67 per part.
func SMSSegments(text string) (encoding string, segments int) {
	if text == "" {
		return GSM7, 0
	}
	septets, gsm := 0, true
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			septets++
		case strings.ContainsRune(gsmExtended, r):
			septets += 2
		default:
			gsm = false
		}
		if !gsm {
			break
		}
	}
	if gsm {
		if septets <= 160 {
			return GSM7, 1
		}
		return GSM7, (septets + 152) / 153
	}
	units := len(utf16.Encode([]rune(text)))
	if units <= 70 {
		return UCS2, 1
	}
	return UCS2, (units + 66) / 67
}
