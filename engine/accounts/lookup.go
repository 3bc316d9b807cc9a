package accounts

// Account returns the account with userID from memory, or false: safe on the chat's
// owner. The chat asks it when a line goes to a user who is not online (an account
// gets it stored for later; an unknown user does not) and for a dialog's other name.
func (s *Service) Account(userID uint64) (Account, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.byID[userID]
	if a == nil {
		return Account{}, false
	}
	return Account{UserID: a.UserID, Name: a.Name, JWT: a.Sub != ""}, true
}
