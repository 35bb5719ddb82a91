// One camera's live page: a big player on the main stream.
import { mountPlayers } from './player.js';

const players = mountPlayers();
window.addEventListener('pagehide', () => players.forEach((player) => player.destroy()));
