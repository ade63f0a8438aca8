// The emoji people can vote for: a GitHub-style shortcode and the character it stands for. The emoji
// service serves this list, and proto/voting.proto has one RPC per entry (regenerate it with
// `node gen-voting-proto.mjs` after changing the list).

/** [shortcode without colons, character] */
const ENTRIES = [
  ['grinning', '😀'], ['smiley', '😃'], ['smile', '😄'], ['grin', '😁'], ['laughing', '😆'],
  ['sweat_smile', '😅'], ['joy', '😂'], ['rofl', '🤣'], ['blush', '😊'], ['innocent', '😇'],
  ['slightly_smiling_face', '🙂'], ['upside_down_face', '🙃'], ['wink', '😉'], ['relieved', '😌'], ['heart_eyes', '😍'],
  ['kissing_heart', '😘'], ['yum', '😋'], ['stuck_out_tongue_winking_eye', '😜'], ['zany_face', '🤪'], ['money_mouth_face', '🤑'],
  ['hugs', '🤗'], ['thinking', '🤔'], ['zipper_mouth_face', '🤐'], ['neutral_face', '😐'], ['no_mouth', '😶'],
  ['smirk', '😏'], ['unamused', '😒'], ['roll_eyes', '🙄'], ['grimacing', '😬'], ['pensive', '😔'],
  ['sleeping', '😴'], ['mask', '😷'], ['nauseated_face', '🤢'], ['hot_face', '🥵'], ['cold_face', '🥶'],
  ['exploding_head', '🤯'], ['cowboy_hat_face', '🤠'], ['partying_face', '🥳'], ['sunglasses', '😎'], ['nerd_face', '🤓'],
  ['monocle_face', '🧐'], ['confused', '😕'], ['open_mouth', '😮'], ['flushed', '😳'], ['pleading_face', '🥺'],
  ['fearful', '😨'], ['sob', '😭'], ['scream', '😱'], ['triumph', '😤'], ['rage', '😡'],
  ['smiling_imp', '😈'], ['skull', '💀'], ['poop', '💩'], ['clown_face', '🤡'], ['ghost', '👻'],
  ['alien', '👽'], ['robot', '🤖'], ['see_no_evil', '🙈'], ['hear_no_evil', '🙉'], ['speak_no_evil', '🙊'],
  ['heart', '❤️'], ['100', '💯'], ['fire', '🔥'], ['sparkles', '✨'], ['rainbow', '🌈'],
  ['zap', '⚡'], ['snowflake', '❄️'], ['unicorn', '🦄'], ['dog', '🐶'], ['cat', '🐱'],
  ['fox_face', '🦊'], ['panda_face', '🐼'], ['penguin', '🐧'], ['octopus', '🐙'], ['whale', '🐳'],
  ['sauropod', '🦕'], ['turtle', '🐢'], ['bee', '🐝'], ['butterfly', '🦋'], ['cactus', '🌵'],
  ['sunflower', '🌻'], ['mushroom', '🍄'], ['pizza', '🍕'], ['hamburger', '🍔'], ['taco', '🌮'],
  ['sushi', '🍣'], ['ramen', '🍜'], ['doughnut', '🍩'], ['cookie', '🍪'], ['birthday', '🎂'],
  ['avocado', '🥑'], ['watermelon', '🍉'], ['coffee', '☕'], ['beer', '🍺'], ['tada', '🎉'],
  ['trophy', '🏆'], ['rocket', '🚀'], ['crystal_ball', '🔮'], ['thumbsup', '👍'], ['clap', '👏'],
  ['wave', '👋'], ['muscle', '💪'], ['pray', '🙏'], ['raised_hands', '🙌'], ['metal', '🤘'],
];

/** Every votable emoji, as the emoji service answers them: `{ shortcode: ':doughnut:', unicode: '🍩' }`. */
export const EMOJI = ENTRIES.map(([name, unicode]) => ({ shortcode: `:${name}:`, unicode }));

/** `:stuck_out_tongue_winking_eye:` → `VoteStuckOutTongueWinkingEye`: the voting service's RPC for an emoji. */
export function voteMethodName(shortcode) {
  const words = shortcode.replace(/^:|:$/g, '').split('_');
  return 'Vote' + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}
