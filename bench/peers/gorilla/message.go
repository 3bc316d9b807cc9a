package main

import (
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"strings"
)

// user is the fields every user-related message carries.
type user struct {
	UserID    int64  `json:"userId"`
	UserName  string `json:"userName"`
	Gender    int    `json:"gender"`
	UserColor string `json:"userColor"`
}

// outMessage is what the server sends; Users only in Authorized, Text and
// ToUserID only in chat messages.
type outMessage struct {
	Action string `json:"action"`
	user
	Users    []user  `json:"users,omitempty"`
	Text     *string `json:"text,omitempty"`
	ToUserID *int64  `json:"toUserId,omitempty"`
}

// inMessage is what a client sends: a chat line (no action) or a Pong.
type inMessage struct {
	Action   string `json:"action"`
	Text     string `json:"text"`
	ToUserID int64  `json:"toUserId"`
}

var pingFrame = []byte(`{"action":"Ping"}`)

const offlineText = "Не удалось отправить сообщение выбранному пользователю"

var mention = regexp.MustCompile(`\{([^{}]*)\}`)

// processText escapes HTML, then turns {nick} into <b>nick</b>, as chatd does.
func processText(s string) string {
	return mention.ReplaceAllString(html.EscapeString(s), "<b>$1</b>")
}

// userFromQuery applies the seed's login rules, simplified: the peer trusts
// the benchmark's names and only fills defaults.
func userFromQuery(id int64, name, color, gender string) user {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Инкогнито"
	}
	if len(color) != 4 && len(color) != 7 || !strings.HasPrefix(color, "#") {
		color = "#000000"
	}
	g, err := strconv.Atoi(gender)
	if err != nil || g < 0 || g > 2 {
		g = 0
	}
	return user{UserID: id, UserName: name, Gender: g, UserColor: color}
}

func encode(m outMessage) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // only plain strings and numbers: cannot fail
	}
	return b
}
