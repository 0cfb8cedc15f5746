package model

// NumberRangeUse is how full the virtual number range is: activator warns
// when it is WarnPercent used, before accounts can no longer be created.
type NumberRangeUse struct {
	Range   string  `json:"range"` // the virtual_number_range setting in force
	Size    uint64  `json:"size"`
	Used    uint64  `json:"used"`
	Percent float64 `json:"percent"`
	// Warning says what to do when the range is WarnPercent used or more; empty below.
	Warning string `json:"warning,omitempty"`
}

// WarnPercent is how full a virtual number range is when activator warns.
const WarnPercent = 80
